// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt routing: the APIC map, destination matching, delivery to one or
 * many LAPICs, MSI decoding and the x2APIC API flags.
 *
 * Lock card:
 *
 * lapicv_vm.apic_map_lock
 *	:Type:     mutex
 *	:Protects: rebuilding and publishing lapicv_vm.apic_map, and the
 *	           DIRTY -> UPDATE_IN_PROGRESS -> CLEAN steps of
 *	           lapicv_vm.apic_map_dirty.
 *	:Order:    taken inside lapicv_vcpu.mutex (lapic.c rebuilds the map
 *	           from vCPU ioctls); only lapicv_inhibits.update_lock (the
 *	           map's APICv inhibits) is taken inside it.  It is not
 *	           lapicv_vm.lock because that lock is outside every vCPU
 *	           mutex.
 *	:Writers:  lapicv_recalculate_apic_map().
 *
 * lapicv_vm.apic_map
 *	RCU: readers (every delivery) use rcu_read_lock() and never write
 *	through the map; a replaced map is freed after a grace period.
 *
 * lapicv_vm.apic_map_dirty
 *	Lockless state machine; see the enum below.
 *
 * The rebuild reads other vCPUs' APIC registers without their mutex.  That
 * is safe because every writer of an ID, LDR, DFR, SPIV or the APIC base
 * marks the map DIRTY after the write: a rebuild that read stale values
 * leaves the state DIRTY (its final cmpxchg fails) and the writer's own
 * rebuild, which follows its write, publishes a correct map.
 */
#include "irq.h"

/*
 * apic_map_dirty: CLEAN -> DIRTY and UPDATE_IN_PROGRESS -> DIRTY without a
 * lock (lapicv_apic_map_mark_dirty()); DIRTY -> UPDATE_IN_PROGRESS and
 * UPDATE_IN_PROGRESS -> CLEAN only under apic_map_lock.  Zero is CLEAN so
 * that a fresh VM (kzalloc) with no map needs no rebuild until a vCPU's
 * APIC changes.
 */
enum {
	APIC_MAP_CLEAN,
	APIC_MAP_UPDATE_IN_PROGRESS,
	APIC_MAP_DIRTY,
};

/*
 * kvm.ko's vector_hashing, with its default: lowest priority picks its
 * destination by vector hashing; off, by arbitration priority (the vCPU
 * that accepted the fewest lowest-priority interrupts, see
 * lapicv_apic_compare_prio()).  Read-only, as KVM's is.
 */
static bool vector_hashing = true;
module_param(vector_hashing, bool, 0444);
MODULE_PARM_DESC(vector_hashing,
		 "Lowest-priority delivery by vector hashing (1, KVM's default) or by arbitration priority (0)");

/* The x2APIC ID is the vCPU id and cannot be changed, as in KVM. */
static u32 apic_x2apic_id(const struct lapicv_lapic *apic)
{
	return apic->vcpu->vcpu_id;
}

static u8 apic_xapic_id(const struct lapicv_lapic *apic)
{
	return lapicv_get_reg(apic, APIC_ID) >> 24;
}

/* KVM's kvm_apic_present(): only hardware-enabled APICs take part. */
static struct lapicv_lapic *apic_present(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;

	return apic && lapicv_apic_hw_enabled(apic) ? apic : NULL;
}

static bool apic_lowest_prio(const struct lapicv_irq *irq)
{
	return irq->delivery_mode == APIC_DM_LOWEST || irq->msi_redir_hint;
}

/* ---- the map ---- */

/*
 * The cluster of APICs a logical destination names, and the bits of it
 * addressed.  False when the map cannot answer (logical mode disabled).
 * An empty mask means nobody answers.
 */
static bool apic_map_logical_dest(struct lapicv_apic_map *map, u32 dest_id,
				  struct lapicv_lapic ***cluster, u16 *mask)
{
	u32 offset, size;

	switch (map->logical_mode) {
	case LAPICV_APIC_MODE_SW_DISABLED:
		/* Nobody answers; point at something valid all the same. */
		*cluster = map->xapic_flat_map;
		*mask = 0;
		return true;
	case LAPICV_APIC_MODE_X2APIC:
		/*
		 * x2APIC LDRs are derived from the ID (cluster = ID / 16, bit =
		 * ID % 16), so a cluster is 16 consecutive phys_map entries.
		 */
		offset = (dest_id >> 16) * 16;
		if (offset > map->max_apic_id) {
			*mask = 0;
			return true;
		}
		size = min(map->max_apic_id - offset + 1, 16U);
		offset = array_index_nospec(offset, map->max_apic_id + 1);
		*cluster = &map->phys_map[offset];
		*mask = dest_id & (0xffff >> (16 - size));
		return true;
	case LAPICV_APIC_MODE_XAPIC_FLAT:
		*cluster = map->xapic_flat_map;
		*mask = dest_id & 0xff;
		return true;
	case LAPICV_APIC_MODE_XAPIC_CLUSTER:
		*cluster = map->xapic_cluster_map[(dest_id >> 4) & 0xf];
		*mask = dest_id & 0xf;
		return true;
	default:
		return false;
	}
}

/*
 * Enter @apic by physical ID.  -E2BIG: its ID does not fit, the set of
 * present APICs changed since the map was sized; -EINVAL: the IDs alias
 * and the map cannot be used at all.
 */
static int apic_map_add_phys(struct lapicv_apic_map *map,
			     struct lapicv_lapic *apic, bool x2apic_format,
			     bool *xapic_id_mismatch)
{
	u32 x2apic_id = apic_x2apic_id(apic);
	u32 xapic_id = apic_xapic_id(apic);
	bool x2apic = lapicv_x2apic_mode(apic);
	u32 id;

	if (x2apic_id > map->max_apic_id)
		return -E2BIG;

	/* Compare 8 bits only: a vCPU id past 255 is no mismatch by itself. */
	if (!x2apic && xapic_id != (u8)apic->vcpu->vcpu_id)
		*xapic_id_mismatch = true;

	if (x2apic_format) {
		/*
		 * With 32-bit IDs the VMM may address an xAPIC-mode vCPU whose
		 * id does not fit in 8 bits by that id (hot-plugged vCPUs
		 * start in xAPIC mode), and the first of several xAPIC vCPUs
		 * sharing a truncated ID wins instead of disabling the map.
		 */
		if (x2apic || x2apic_id > 0xff)
			map->phys_map[x2apic_id] = apic;
		if (!x2apic && !map->phys_map[xapic_id])
			map->phys_map[xapic_id] = apic;
		return 0;
	}

	/*
	 * Otherwise every APIC with an ID must see messages to that ID, which
	 * a 1:1 map cannot express: give up the map when two share one.
	 */
	id = x2apic ? x2apic_id : xapic_id;
	if (map->phys_map[id])
		return -EINVAL;
	map->phys_map[id] = apic;
	return 0;
}

static void apic_map_add_logical(struct lapicv_apic_map *map,
				 struct lapicv_lapic *apic)
{
	enum lapicv_apic_logical_mode mode;
	struct lapicv_lapic **cluster;
	u16 mask = 0;
	u32 ldr;

	if (map->logical_mode == LAPICV_APIC_MODE_MAP_DISABLED)
		return;
	/* A software-disabled APIC accepts no logical message; skip it. */
	if (!lapicv_apic_sw_enabled(apic))
		return;
	ldr = lapicv_get_reg(apic, APIC_LDR);
	if (!ldr)
		return;

	if (lapicv_x2apic_mode(apic)) {
		mode = LAPICV_APIC_MODE_X2APIC;
	} else {
		ldr = GET_APIC_LOGICAL_ID(ldr);
		if (lapicv_get_reg(apic, APIC_DFR) == APIC_DFR_FLAT)
			mode = LAPICV_APIC_MODE_XAPIC_FLAT;
		else
			mode = LAPICV_APIC_MODE_XAPIC_CLUSTER;
	}

	/* One logical mode for the whole VM, or no logical map. */
	if (map->logical_mode == LAPICV_APIC_MODE_SW_DISABLED) {
		map->logical_mode = mode;
	} else if (map->logical_mode != mode) {
		map->logical_mode = LAPICV_APIC_MODE_MAP_DISABLED;
		return;
	}

	/* x2APIC clusters are read straight out of phys_map. */
	if (mode == LAPICV_APIC_MODE_X2APIC)
		return;

	apic_map_logical_dest(map, ldr, &cluster, &mask);
	if (!mask)
		return;

	/* The map holds one APIC per logical bit, with one bit per APIC. */
	ldr = ffs(mask) - 1;
	if (!is_power_of_2(mask) || cluster[ldr])
		map->logical_mode = LAPICV_APIC_MODE_MAP_DISABLED;
	else
		cluster[ldr] = apic;
}

void lapicv_apic_map_mark_dirty(struct lapicv_vm *vm)
{
	/* Order the caller's register write before the state change. */
	atomic_set_release(&vm->apic_map_dirty, APIC_MAP_DIRTY);
}

/*
 * Build a map from the present APICs, or NULL when the IDs alias or memory
 * ran out.  The first try sizes the map for *max_id, which the caller takes
 * from the map it replaces: the largest ID changes only when a vCPU comes
 * or an APIC is enabled or disabled, so one walk over the vCPUs usually
 * does.  A retry measures first; *max_id only grows across retries, so a
 * vCPU that keeps toggling its APIC cannot make the caller loop forever.
 * The map's max_apic_id is the largest ID present (at least 255) whatever
 * the size allocated; entries past it stay NULL.  *mismatch: an xAPIC-mode
 * APIC seen so far has an ID other than its vCPU id's low byte.
 */
static struct lapicv_apic_map *apic_map_build(struct lapicv_vm *vm,
					      u32 *max_id, bool *retry,
					      bool *mismatch)
{
	bool x2apic_format = READ_ONCE(vm->x2apic_format);
	struct lapicv_apic_map *map;
	struct lapicv_lapic *apic;
	struct lapicv_vcpu *vcpu;
	u32 seen_max = 255;
	unsigned int i;
	int r;

	for (i = 0; *retry && (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		apic = apic_present(vcpu);
		if (apic)
			*max_id = max(*max_id, apic_x2apic_id(apic));
	}
	*retry = false;
	*mismatch = false;

	map = kvzalloc(struct_size(map, phys_map, (size_t)*max_id + 1),
		       GFP_KERNEL_ACCOUNT);
	if (!map)
		return NULL;
	map->max_apic_id = *max_id;
	map->x2apic_format = x2apic_format;
	map->logical_mode = LAPICV_APIC_MODE_SW_DISABLED;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		apic = apic_present(vcpu);
		if (!apic)
			continue;
		r = apic_map_add_phys(map, apic, x2apic_format, mismatch);
		if (r) {
			kvfree(map);
			*retry = r == -E2BIG;
			return NULL;
		}
		apic_map_add_logical(map, apic);
		seen_max = max(seen_max, apic_x2apic_id(apic));
	}
	map->max_apic_id = seen_max;
	map->nr_vcpus = i;
	return map;
}

/*
 * APICv cannot express what the map cannot: aliased physical or logical
 * IDs, and (for AVIC and APICv alike) an xAPIC ID the guest changed.
 */
static void apic_map_update_inhibits(struct lapicv_vm *vm,
				     const struct lapicv_apic_map *map,
				     bool mismatch)
{
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PHYSICAL_ID_ALIASED,
				    !map);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_LOGICAL_ID_ALIASED,
				    !map || map->logical_mode ==
					    LAPICV_APIC_MODE_MAP_DISABLED);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_APIC_ID_MODIFIED,
				    mismatch);
}

bool lapicv_apic_map_stale(struct lapicv_vm *vm)
{
	struct lapicv_apic_map *map;
	bool stale;

	rcu_read_lock();
	map = rcu_dereference(vm->apic_map);
	stale = !map || map->nr_vcpus != lapicv_online_vcpus(vm) ||
		map->x2apic_format != READ_ONCE(vm->x2apic_format);
	rcu_read_unlock();
	return stale;
}

bool lapicv_recalculate_apic_map(struct lapicv_vm *vm)
{
	struct lapicv_apic_map *map, *old;
	u32 max_id = 255;	/* room for every xAPIC ID */
	bool retry = false, mismatch;

	/* Read apic_map_dirty before the map and the registers. */
	if (atomic_read_acquire(&vm->apic_map_dirty) == APIC_MAP_CLEAN)
		return false;

	mutex_lock(&vm->apic_map_lock);
	old = rcu_dereference_protected(vm->apic_map,
					lockdep_is_held(&vm->apic_map_lock));
	/* No old map: measure first. */
	if (old)
		max_id = max(max_id, old->max_apic_id);
	else
		retry = true;
	do {
		/*
		 * Someone else published a map that includes every change
		 * marked so far.  After a retry the state may still read
		 * UPDATE_IN_PROGRESS (the racing writer has not marked it
		 * DIRTY yet): build again all the same.
		 */
		if (atomic_cmpxchg_acquire(&vm->apic_map_dirty, APIC_MAP_DIRTY,
					   APIC_MAP_UPDATE_IN_PROGRESS) ==
		    APIC_MAP_CLEAN) {
			mutex_unlock(&vm->apic_map_lock);
			return false;
		}
		map = apic_map_build(vm, &max_id, &retry, &mismatch);
		if (retry)
			cond_resched();
	} while (retry);
	apic_map_update_inhibits(vm, map, mismatch);

	rcu_assign_pointer(vm->apic_map, map);
	/*
	 * Publish the map before CLEAN; a change marked meanwhile moved the
	 * state to DIRTY, and then it stays DIRTY for the next rebuild.
	 */
	atomic_cmpxchg_release(&vm->apic_map_dirty,
			       APIC_MAP_UPDATE_IN_PROGRESS, APIC_MAP_CLEAN);
	mutex_unlock(&vm->apic_map_lock);

	if (old)
		kvfree_rcu(old, rcu);
	/* Who an IOAPIC route reaches may have changed (KVM: the same). */
	lapicv_make_all_vcpus_request(vm, LAPICV_REQ_SCAN_IOAPIC);
	return true;
}

void lapicv_apic_map_free(struct lapicv_vm *vm)
{
	/* The VM is going away: no fd, hence no reader, is left. */
	kvfree(rcu_dereference_protected(vm->apic_map, true));
	RCU_INIT_POINTER(vm->apic_map, NULL);
}

/* ---- destination matching ---- */

static bool apic_is_broadcast(const struct lapicv_lapic *apic, u32 mda)
{
	return mda == (lapicv_x2apic_mode(apic) ? LAPICV_X2APIC_BROADCAST :
						  LAPICV_APIC_BROADCAST);
}

static bool apic_match_physical(const struct lapicv_lapic *apic, u32 mda)
{
	if (apic_is_broadcast(apic, mda))
		return true;
	/*
	 * An xAPIC-mode APIC also answers to its x2APIC ID when the
	 * destination cannot be an xAPIC ID, so that hot-plugged vCPUs with
	 * ids past 255 are addressable before they switch to x2APIC.
	 * Destinations that fit in 8 bits match the (writable) xAPIC ID only.
	 */
	if (lapicv_x2apic_mode(apic) || mda > 0xff)
		return mda == apic_x2apic_id(apic);
	return mda == apic_xapic_id(apic);
}

static bool apic_match_logical(const struct lapicv_lapic *apic, u32 mda)
{
	u32 ldr;

	if (apic_is_broadcast(apic, mda))
		return true;

	ldr = lapicv_get_reg(apic, APIC_LDR);
	if (lapicv_x2apic_mode(apic))
		return (ldr >> 16) == (mda >> 16) && (ldr & mda & 0xffff);

	ldr = GET_APIC_LOGICAL_ID(ldr);
	switch (lapicv_get_reg(apic, APIC_DFR)) {
	case APIC_DFR_FLAT:
		return ldr & mda;
	case APIC_DFR_CLUSTER:
		return (ldr >> 4) == (mda >> 4) && (ldr & mda & 0xf);
	default:
		/* Any other DFR value matches no logical destination. */
		return false;
	}
}

/*
 * The destination as @target reads it.  Unless the VMM disabled the quirk,
 * a device message (no source) to the xAPIC broadcast 0xff is an x2APIC
 * broadcast for an x2APIC-mode target: without interrupt remapping a
 * device cannot name 0xffffffff, yet x2APIC guests expect broadcasts.
 * Unlike hardware, and like KVM, a destination past 0xff never reaches an
 * xAPIC-mode APIC through its low byte.
 */
static u32 apic_mda(const struct lapicv_lapic *target,
		    const struct lapicv_lapic *source, u32 dest)
{
	struct lapicv_vm *vm = target->vcpu->vm;

	if (!source && dest == LAPICV_APIC_BROADCAST &&
	    !READ_ONCE(vm->x2apic_broadcast_quirk_disabled) &&
	    lapicv_x2apic_mode(target))
		return LAPICV_X2APIC_BROADCAST;
	return dest;
}

bool lapicv_apic_match_dest(struct lapicv_lapic *target,
			    struct lapicv_lapic *source, int shorthand,
			    u32 dest, int dest_mode)
{
	u32 mda = apic_mda(target, source, dest);

	switch (shorthand) {
	case APIC_DEST_NOSHORT:
		if (dest_mode == APIC_DEST_PHYSICAL)
			return apic_match_physical(target, mda);
		return apic_match_logical(target, mda);
	case APIC_DEST_SELF:
		return target == source;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return target != source;
	default:
		return false;
	}
}

/* ---- delivery ---- */

/*
 * Lowest priority by vector hashing: of @n candidates (the set bits of
 * @bitmap), the one at position vector % n.
 */
static unsigned int apic_vector_to_index(u32 vector, unsigned int n,
					 const unsigned long *bitmap,
					 unsigned int size)
{
	unsigned int skip = vector % n;
	unsigned int idx = find_first_bit(bitmap, size);

	while (skip--)
		idx = find_next_bit(bitmap, size, idx + 1);
	return idx;
}

/*
 * Lowest priority by arbitration: of the APICs in @cluster named by @mask,
 * the first with the lowest arbitration priority.  Returns its bit, or 0.
 */
static unsigned long apic_lowest_by_prio(struct lapicv_lapic **cluster,
					 unsigned long mask)
{
	int i, lowest = -1;

	for_each_set_bit(i, &mask, 16) {
		if (!cluster[i])
			continue;
		if (lowest < 0 ||
		    lapicv_apic_compare_prio(cluster[i], cluster[lowest]) < 0)
			lowest = i;
	}
	return lowest < 0 ? 0 : BIT(lowest);
}

/*
 * A broadcast always takes the slow path.  With the quirk disabled, 0xff is
 * a broadcast unless the logical map is x2APIC's (where 0xff means cluster
 * 0, APICs 0-7); with the quirk, the broadcast of the sender's mode.
 */
static bool apic_map_is_broadcast(struct lapicv_vm *vm,
				  struct lapicv_lapic *src,
				  const struct lapicv_irq *irq,
				  const struct lapicv_apic_map *map)
{
	if (READ_ONCE(vm->x2apic_broadcast_quirk_disabled))
		return irq->dest_id == LAPICV_X2APIC_BROADCAST ||
		       (irq->dest_id == LAPICV_APIC_BROADCAST &&
			map->logical_mode != LAPICV_APIC_MODE_X2APIC);

	if (src && lapicv_x2apic_mode(src))
		return irq->dest_id == LAPICV_X2APIC_BROADCAST;
	return irq->dest_id == LAPICV_APIC_BROADCAST;
}

/*
 * Find the destinations of @irq in @map: entries of *dst whose bit is set
 * in *bitmap (NULL entries are skipped).  False when the map cannot decide
 * and every vCPU must be matched.  True with an empty bitmap drops the
 * interrupt.
 */
static bool apic_map_get_dest(struct lapicv_vm *vm, struct lapicv_lapic *src,
			      const struct lapicv_irq *irq,
			      struct lapicv_apic_map *map,
			      struct lapicv_lapic ***dst,
			      unsigned long *bitmap)
{
	unsigned int idx;
	u16 mask;

	if (irq->shorthand || !map || apic_map_is_broadcast(vm, src, irq, map))
		return false;

	if (irq->dest_mode == APIC_DEST_PHYSICAL) {
		/* Lowest priority to a physical ID has one candidate. */
		if (irq->dest_id > map->max_apic_id) {
			*bitmap = 0;
		} else {
			idx = array_index_nospec(irq->dest_id,
						 map->max_apic_id + 1);
			*dst = &map->phys_map[idx];
			*bitmap = 1;
		}
		return true;
	}

	if (!apic_map_logical_dest(map, irq->dest_id, dst, &mask))
		return false;
	*bitmap = mask;
	if (!apic_lowest_prio(irq) || !mask)
		return true;

	if (!vector_hashing) {
		*bitmap = apic_lowest_by_prio(*dst, mask);
		return true;
	}
	/*
	 * The hash counts every addressed bit, including bits nobody answers
	 * to; landing on one drops the interrupt, as KVM does.
	 */
	idx = apic_vector_to_index(irq->vector, hweight16(mask), bitmap, 16);
	*bitmap = (*dst)[idx] ? BIT(idx) : 0;
	return true;
}

static bool apic_deliver_fast(struct lapicv_vm *vm, struct lapicv_lapic *src,
			      struct lapicv_irq *irq, int *r)
{
	struct lapicv_apic_map *map;
	struct lapicv_lapic **dst = NULL;
	unsigned long bitmap = 0;
	unsigned int i;
	bool decided;

	*r = -1;
	if (irq->shorthand == APIC_DEST_SELF) {
		/* Only an IPI has a self; anything else reaches nobody. */
		*r = src ? lapicv_apic_accept_irq(src, irq) : 0;
		return true;
	}

	rcu_read_lock();
	map = rcu_dereference(vm->apic_map);
	decided = apic_map_get_dest(vm, src, irq, map, &dst, &bitmap);
	if (decided) {
		*r = 0;
		for_each_set_bit(i, &bitmap, 16)
			if (dst[i])
				*r += lapicv_apic_accept_irq(dst[i], irq);
	}
	rcu_read_unlock();
	return decided;
}

int lapicv_irq_delivery_to_apic(struct lapicv_vm *vm,
				struct lapicv_lapic *src,
				struct lapicv_irq *irq)
{
	DECLARE_BITMAP(candidates, LAPICV_MAX_VCPUS);
	struct lapicv_lapic *apic, *lowest = NULL;
	struct lapicv_vcpu *vcpu;
	unsigned int i, n = 0;
	int r = -1;

	if (apic_deliver_fast(vm, src, irq, &r))
		return r;

	/* A lowest-priority physical broadcast goes to everyone. */
	if (irq->dest_mode == APIC_DEST_PHYSICAL &&
	    irq->dest_id == LAPICV_APIC_BROADCAST && apic_lowest_prio(irq))
		irq->delivery_mode = APIC_DM_FIXED;

	bitmap_zero(candidates, LAPICV_MAX_VCPUS);
	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		apic = apic_present(vcpu);
		if (!apic || !lapicv_apic_match_dest(apic, src, irq->shorthand,
						     irq->dest_id,
						     irq->dest_mode))
			continue;

		if (!apic_lowest_prio(irq)) {
			r = max(r, 0) + lapicv_apic_accept_irq(apic, irq);
		} else if (!lapicv_apic_sw_enabled(apic)) {
			continue;
		} else if (vector_hashing) {
			/* Candidates by creation index, as KVM hashes them. */
			__set_bit(i, candidates);
			n++;
		} else if (!lowest ||
			   lapicv_apic_compare_prio(apic, lowest) < 0) {
			lowest = apic;
		}
	}

	if (n) {
		i = apic_vector_to_index(irq->vector, n, candidates,
					 LAPICV_MAX_VCPUS);
		lowest = lapicv_get_vcpu(vm, i)->apic;
	}
	if (lowest)
		r = lapicv_apic_accept_irq(lowest, irq);
	return r;
}

/* ---- MSI and the x2APIC API ---- */

/* Fields of an MSI address (x86: 0xfeeXXXXX) and data word. */
#define MSI_ADDR_DEST_LOGICAL	BIT(2)
#define MSI_ADDR_REDIR_HINT	BIT(3)
#define MSI_ADDR_DEST_ID(a)	(((a) >> 12) & 0xff)
#define MSI_DATA_VECTOR(d)	((d) & 0xff)
#define MSI_DATA_DM(d)		(((d) >> 8) & 0x7)
#define MSI_DATA_LEVEL_TRIG	BIT(15)

void lapicv_msi_to_irq(struct lapicv_vm *vm, u32 address_lo, u32 address_hi,
		       u32 data, struct lapicv_irq *irq)
{
	*irq = (struct lapicv_irq) {
		.vector		= MSI_DATA_VECTOR(data),
		/* APIC_DM_* is the data word's field, in ICR position. */
		.delivery_mode	= MSI_DATA_DM(data) << 8,
		.dest_mode	= address_lo & MSI_ADDR_DEST_LOGICAL ?
				  APIC_DEST_LOGICAL : APIC_DEST_PHYSICAL,
		.level		= true,
		.trig_mode	= !!(data & MSI_DATA_LEVEL_TRIG),
		.shorthand	= APIC_DEST_NOSHORT,
		.dest_id	= MSI_ADDR_DEST_ID(address_lo),
		.msi_redir_hint	= !!(address_lo & MSI_ADDR_REDIR_HINT),
	};
	/*
	 * With 32-bit IDs, address_hi[31:8] carries destination bits 31:8.
	 * Without them the whole of address_hi is ignored.
	 */
	if (READ_ONCE(vm->x2apic_format))
		irq->dest_id |= address_hi & ~0xffu;
}

int lapicv_signal_msi(struct lapicv_vm *vm, const struct kvm_msi *msi)
{
	struct lapicv_irq irq;

	/* Device ids are accepted and ignored: there is no IOMMU here. */
	if (!lapicv_irqchip_in_kernel(vm) || (msi->flags & ~KVM_MSI_VALID_DEVID))
		return -EINVAL;
	/* With 32-bit IDs, address_hi's low byte must be zero. */
	if (READ_ONCE(vm->x2apic_format) && (msi->address_hi & 0xff))
		return -EINVAL;

	lapicv_msi_to_irq(vm, msi->address_lo, msi->address_hi, msi->data,
			  &irq);
	return lapicv_irq_delivery_to_apic(vm, NULL, &irq);
}

int lapicv_enable_x2apic_api(struct lapicv_vm *vm, u64 flags)
{
	if (flags & ~LAPICV_X2APIC_API_VALID_FLAGS)
		return -EINVAL;

	/*
	 * Like KVM, neither flag marks the map dirty: a map built before the
	 * VMM asked for 32-bit IDs keeps its old shape until the next APIC
	 * change rebuilds it.  Flags are only ever set.
	 */
	mutex_lock(&vm->lock);
	if (flags & KVM_X2APIC_API_USE_32BIT_IDS)
		WRITE_ONCE(vm->x2apic_format, true);
	if (flags & KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK)
		WRITE_ONCE(vm->x2apic_broadcast_quirk_disabled, true);
	mutex_unlock(&vm->lock);
	return 0;
}
