/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interrupt routing: the VM-wide APIC map and delivery of one interrupt
 * message to every local APIC it addresses.  irq.c owns the map; lapic.c
 * owns acceptance by a single LAPIC.
 *
 * The semantics are KVM 6.12's (lapic.c's map and match code, irq_comm.c's
 * delivery and MSI decoding), including the values a VMM can observe: the
 * result of KVM_SIGNAL_MSI and which vCPUs see an IRR bit.
 */
#ifndef _LAPICV_IRQ_H
#define _LAPICV_IRQ_H

#include "lapicv.h"
#include "lapic.h"

/* The ICR destination shorthand "none"; <asm/apicdef.h> has no name for it. */
#define APIC_DEST_NOSHORT	0x0

/* KVM_CAP_X2APIC_API flags lapicv knows (KVM's KVM_X2APIC_API_VALID_FLAGS). */
#define LAPICV_X2APIC_API_VALID_FLAGS					\
	(KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK)

/* How the map resolves logical destinations. */
enum lapicv_apic_logical_mode {
	/* No software-enabled APIC with a non-zero LDR seen (yet). */
	LAPICV_APIC_MODE_SW_DISABLED,
	/* Every such APIC is in xAPIC mode with DFR flat. */
	LAPICV_APIC_MODE_XAPIC_FLAT,
	/* Every such APIC is in xAPIC mode with DFR cluster. */
	LAPICV_APIC_MODE_XAPIC_CLUSTER,
	/* Every such APIC is in x2APIC mode: clusters come from phys_map. */
	LAPICV_APIC_MODE_X2APIC,
	/*
	 * Modes are mixed, or a logical ID is shared or has several bits set:
	 * logical delivery takes the slow path over every vCPU.
	 */
	LAPICV_APIC_MODE_MAP_DISABLED,
};

/*
 * A snapshot of who answers to which APIC ID.  Built by
 * lapicv_recalculate_apic_map(), published with rcu_assign_pointer() in
 * lapicv_vm.apic_map and never changed afterwards: readers take
 * rcu_read_lock() and use the snapshot as it is.  A NULL map means the
 * physical IDs alias (without KVM_X2APIC_API_USE_32BIT_IDS) or memory ran
 * out: every delivery then takes the slow path.
 */
struct lapicv_apic_map {
	struct rcu_head rcu;
	enum lapicv_apic_logical_mode logical_mode;
	/* phys_map has max_apic_id + 1 entries; at least 256. */
	u32 max_apic_id;
	/* What the map was built from, besides the APICs' own registers. */
	u32 nr_vcpus;
	bool x2apic_format;
	/* The logical map of the two xAPIC modes, by LDR bit. */
	union {
		struct lapicv_lapic *xapic_flat_map[8];
		struct lapicv_lapic *xapic_cluster_map[16][4];
	};
	/* APICs by physical ID; NULL where nobody answers. */
	struct lapicv_lapic *phys_map[];
};

/*
 * Note that an APIC ID, LDR, DFR, software enable or APIC mode changed:
 * the next lapicv_recalculate_apic_map() rebuilds the map.  Lockless; call
 * it after the register is written.
 */
void lapicv_apic_map_mark_dirty(struct lapicv_vm *vm);

/*
 * The published map predates a vCPU or the KVM_CAP_X2APIC_API format (or
 * there is none): a rebuild would differ even if no register changed.
 */
bool lapicv_apic_map_stale(struct lapicv_vm *vm);

/*
 * Rebuild the map if it was marked dirty.  Takes vm->apic_map_lock, may
 * sleep (allocation).  Callers hold their own vCPU's mutex (vCPU ioctls,
 * INIT and the creation reset) or, for a new protected-APIC vCPU,
 * vm->lock (KVM_CREATE_VCPU); never another vCPU's mutex.  True when
 * this call published a map, and so asked every vCPU to rescan its IOAPIC
 * routes after that.
 */
bool lapicv_recalculate_apic_map(struct lapicv_vm *vm);

/* Free the last map at VM destruction, when no reader can remain. */
void lapicv_apic_map_free(struct lapicv_vm *vm);

/*
 * Whether @target is a destination of a message sent by @source (NULL for
 * a message from a device: MSI, the VMM's IOAPIC) with the given shorthand
 * (APIC_DEST_*), destination and destination mode.  @target's APIC must be
 * hardware-enabled for the answer to mean anything, as in KVM.
 */
bool lapicv_apic_match_dest(struct lapicv_lapic *target,
			    struct lapicv_lapic *source, int shorthand,
			    u32 dest, int dest_mode);

/*
 * Deliver @irq to every LAPIC it addresses, through the map when it can
 * decide, else by matching every vCPU.  @src is the sending LAPIC for an
 * IPI, NULL otherwise.  Lowest priority picks one destination by vector
 * hashing, or by arbitration priority with the module parameter
 * vector_hashing=0, like kvm.ko's parameter of that name.  Returns -1 when
 * the slow path found no destination, else the number of destinations
 * that accepted the interrupt (0 when the map says nobody answers), as KVM
 * does.  Acceptance (lapicv_apic_accept_irq()) runs under rcu_read_lock(),
 * so it must not sleep.  The slow path may rewrite @irq's delivery mode (a
 * lowest-priority physical broadcast becomes fixed), as KVM's does.
 */
int lapicv_irq_delivery_to_apic(struct lapicv_vm *vm,
				struct lapicv_lapic *src,
				struct lapicv_irq *irq);

/*
 * Decode an MSI as KVM's kvm_set_msi_irq() does (address_hi's destination
 * bits 31:8 with KVM_X2APIC_API_USE_32BIT_IDS); always asserted.
 */
void lapicv_msi_to_irq(struct lapicv_vm *vm, u32 address_lo, u32 address_hi,
		       u32 data, struct lapicv_irq *irq);

/*
 * KVM_SIGNAL_MSI after vm.c copied the struct in: -EINVAL for unknown
 * flags, without a split irqchip, or for a non-zero address_hi[7:0] with
 * 32-bit IDs; otherwise lapicv_irq_delivery_to_apic()'s result.
 */
int lapicv_signal_msi(struct lapicv_vm *vm, const struct kvm_msi *msi);

/*
 * KVM_ENABLE_CAP(KVM_CAP_X2APIC_API): -EINVAL for unknown flags, else set
 * the given flags (they are never cleared) and return 0.  Allowed at any
 * time, as in KVM.
 */
int lapicv_enable_x2apic_api(struct lapicv_vm *vm, u64 flags);

#endif /* _LAPICV_IRQ_H */
