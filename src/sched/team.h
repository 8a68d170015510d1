/* team.h — multi-host combinators over the per-host slot engine: round robin (union with the
 * set of free hosts) and collective (intersection). Pure like slots.h: no I/O, no clock; the
 * only memory that outlives a call is the output vector, which the caller frees with
 * sched_team_slots_free(). Each host's list is computed once by sched_compute(), so no rule of
 * the engine is written twice here.
 *
 * Inputs: one sched_slots_t per host, host index i = position in the array (the caller maps
 * indexes to user ids). Each list must be sorted by start, as sched_compute() returns it. Only
 * entries with reason SLOT_FREE and seats_left > 0 count, so an explain = 1 list also works; a
 * repeated start within one host's list counts once.
 *
 * Host sets: every team slot owns a run of the vector's shared `hosts` array (off, nhosts),
 * ascending host index, each entry with that host's seats_left. A flat array rather than a
 * bitmask because the per-host seats must travel with the set anyway, and it puts no cap on the
 * number of hosts. The array is allocated once, at the exact upper bound (the number of input
 * entries), so filling it never reallocates.
 *
 * Cost: the union scans the live hosts' cursors once per distinct start, O(M + U * N) for M
 * input entries, U distinct starts and N hosts, which is O(M) when the hosts share a few grid
 * phases (zones and working starts on the hour or half hour). When rounds find few hosts each
 * (grids out of phase), it finishes the remaining entries with a stable radix sort on start,
 * O(M) whatever the phases. The intersection is a leapfrog join; cursors only move forward.
 * Measured at -O2 for 50 hosts x 31 days of 30-minute slots (M = 74,400 entries, mostly the
 * cost of reading 3 MB of input), round-the-clock days: union 0.42 ms on one grid, 0.58 ms
 * over four phases, 1.2 ms with every host on its own phase (radix); 09:00-17:00 days on one
 * grid: 0.13 ms. */
#ifndef SLOTD_SCHED_TEAM_H
#define SLOTD_SCHED_TEAM_H

#include <stddef.h>
#include <stdint.h>

#include "slots.h"

typedef struct {
  int host;       /* index into the caller's array of per-host lists */
  int seats_left; /* that host's seats left at this start */
} sched_team_host_t;

typedef struct {
  int64_t start, end;
  int seats_left;       /* round robin: the sum over its hosts; collective: the minimum */
  int best_seats;       /* the most one booking can take: round robin goes to ONE host, so the
                           largest single host's seats_left; collective: = seats_left */
  uint32_t off, nhosts; /* its hosts: hosts[off .. off + nhosts), ascending host index */
} sched_team_slot_t;

typedef struct {
  sched_team_slot_t *v; /* sorted by start, one per start */
  size_t n, cap;
  sched_team_host_t *hosts; /* shared by all slots; runs may have gaps after a filter */
  size_t nhosts, hosts_cap;
  int collective; /* made by sched_team_intersect(): the filters keep every host of a slot */
} sched_team_slots_t;

/* Round robin: every start at which at least one host is free, with the free hosts. Hosts'
 * grids may differ (zones, working starts): a start only some hosts have is a slot of those
 * hosts. One event type gives one duration, so a host whose slot at that start has another end
 * than the lowest-indexed free host's is left out of that slot (defensive; it cannot happen
 * with sched_compute() output). n = 0 gives an empty vector. Overwrites *out. */
void sched_team_union(const sched_slots_t *per_host, size_t n, sched_team_slots_t *out);
/* Collective: every start at which ALL n hosts are free with the same end; seats_left is the
 * minimum over the hosts (one booking occupies each of them); hosts = all n. n = 0 gives an
 * empty vector. Overwrites *out. */
void sched_team_intersect(const sched_slots_t *per_host, size_t n, sched_team_slots_t *out);
void sched_team_slots_free(sched_team_slots_t *t);

/* host_id= restriction, in place: keeps the slots where `host` is free. Round robin: the
 * booking will go to that host, so each kept slot becomes that host's alone (hosts = {host},
 * seats_left = best_seats = its seats). Collective slots hold every host and stay unchanged. */
void sched_team_keep_host(sched_team_slots_t *t, int host);
/* Party size, in place: keeps the slots a booking of `seats` seats fits. Round robin: the
 * hosts with fewer seats left are dropped from each slot (the booking cannot go to them) and
 * seats_left / best_seats are recomputed; a slot with no host left goes. Collective: keeps a
 * slot when its minimum is at least `seats`. seats <= 1 changes nothing. */
void sched_team_keep_seats(sched_team_slots_t *t, int seats);
/* The slot starting exactly at `start`, or NULL (binary search): what a booking checks. */
const sched_team_slot_t *sched_team_find(const sched_team_slots_t *t, int64_t start);

/* One free host of a round-robin slot, as the assignment rules see it. */
typedef struct {
  int64_t user_id;
  int64_t recent_count;  /* its active bookings of this event type created in the trailing 30 days, >= 0 */
  int64_t last_assigned; /* Unix seconds of its latest assignment of this type; 0 = never */
  int priority;          /* 0-4, higher wins */
  int weight;            /* 1-1000; values outside are clamped (keeps the products below in range) */
  int partly_filled;     /* seated type: some, not all, of its seats at this slot are taken */
} sched_rr_candidate_t;

/* Round-robin assignment among the free hosts of one slot; returns the chosen index, or -1
 * when n = 0. The rules, each applied only to break a tie of the ones before:
 *   1. partly_filled first: a seated type fills one host's seats before opening another's;
 *   2. highest priority;
 *   3. fewest recent bookings per unit of weight, recent_count / weight, compared exactly by
 *      cross-multiplication in 64 bits (weights 100 and 200 share bookings about 1:2);
 *   4. least recently assigned, a host never assigned (0) before any other;
 *   5. lowest user id.
 * Pure and deterministic: the caller updates recent_count / last_assigned after booking. */
int sched_rr_pick(const sched_rr_candidate_t *c, size_t n);

#endif
