// Plan: how many samples each key contributes to every chunk of a job (DESIGN.md §3.5).
//
// Between events (a key running out, a mixture change) the per-chunk counts are constant,
// so the plan is a short list of segments; chunk k is found by binary search and each key's
// stream position follows from the segment's start position plus (k - first) * count.
//
// Rules (docs/mixtures.md, "Planning and chunks"):
//   - Counts per chunk: largest remainder of chunk_size over the weights of the keys that
//     still have data (strict: over all keys with weight > 0).
//   - strict: the plan ends at the first chunk some key cannot fill; no partial chunk.
//   - best effort: in the chunk where keys run short, they give what they have and the
//     missing count goes to the other keys by largest remainder of their counts (capped by
//     what they have left), repeatedly; from the next chunk on, counts are recomputed over
//     the keys left. Only the very last chunk may be partial.
//   - A mixture change (schedule entry, dynamic update) takes effect at its chunk.
// Extend adds a later mixture change without planning the earlier chunks again: the plan
// keeps the planner's state where its last change took effect and resumes from there, so a
// change costs the segments since the previous change, not the job's history. Extend(e) on
// Build(log) gives the same plan as Build(log + e).
// Thread safety: const methods may be called concurrently; Extend needs exclusive access.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mixtera::chunk {

// One entry of the mixture log: from chunk `start_chunk` on, these weights (one per job key;
// 0 = the key takes no part) apply. mixture_id = the entry's position in the log.
struct MixtureEvent {
  int64_t start_chunk = 0;
  std::vector<double> weights;
};

// What the plan counts, beyond samples (`unit: tokens`, docs/mixtures.md "Units").
struct PlanUnits {
  // Whole training windows: with window_stride > 0 a chunk holds
  // W = max(1, (chunk_size - window_extra) / window_stride) windows, apportioned over the
  // keys by largest remainder, and a key with n > 0 windows gets n * window_stride +
  // window_extra tokens (stride = sequence_length + 1 and extra = 0 for back-to-back
  // windows; stride = sequence_length and extra = 1 for overlapping ones).
  int64_t window_stride = 0;
  int64_t window_extra = 0;
};

// What one chunk of `chunk_size` takes from each key under `weights` (the keys with weight >
// 0 take part): largest remainder of chunk_size, or of whole windows with `units`.
std::vector<int64_t> ChunkCounts(int64_t chunk_size, const std::vector<double>& weights,
                                 const PlanUnits& units);

struct PlanEntry {
  int32_t key = 0;
  int64_t count = 0;  // samples (or tokens) per chunk
  int64_t start = 0;  // the key's stream position at the segment's first chunk
};

struct PlanSegment {
  int64_t first_chunk = 0;
  int64_t num_chunks = 0;
  int32_t mixture_id = 0;
  bool partial = false;  // the single, last chunk holds fewer than chunk_size samples
  uint32_t entry_begin = 0, entry_end = 0;  // into Plan::entries(), keys ascending
};

class Plan {
 public:
  // `key_supply[k]`: samples key k can deliver in total (its data times its repeat).
  // `log` must be non-empty, sorted by start_chunk, the first starting at 0, each with
  // key_supply.size() weights. Chunks before `log`'s last start are planned even if data
  // ran out earlier (the plan then ends there).
  // `units`: see PlanUnits (default: plain counts).
  static Plan Build(const std::vector<int64_t>& key_supply, const std::vector<MixtureEvent>& log,
                    int64_t chunk_size, bool strict, const PlanUnits& units = {});

  // Adds `event` to the end of the plan's log and replans from its start_chunk on.
  // REQUIRES: event.start_chunk > the log's last start_chunk; one weight per key.
  void Extend(const MixtureEvent& event);

  // Chunks in the job: chunk indices [0, num_chunks()).
  int64_t num_chunks() const { return num_chunks_; }
  // The segment holding chunk k (k < num_chunks()).
  const PlanSegment& SegmentOf(int64_t k) const;
  const std::vector<PlanSegment>& segments() const { return segments_; }
  const std::vector<PlanEntry>& entries() const { return entries_; }

  // Per key: the chunk holding its last sample (it runs out there), or -1 when it still has
  // data where the plan ends.
  const std::vector<int64_t>& exhausted_at() const { return exhausted_at_; }
  // Per key: samples it delivers over the whole plan.
  const std::vector<int64_t>& delivered() const { return delivered_; }
  // Why the plan ends: "all keys with weight ran out" or "strict: key K ran out at chunk C".
  const std::string& end_reason() const { return end_reason_; }

 private:
  // The planner's state at a chunk boundary.
  struct Cursor {
    int64_t chunk = 0;
    size_t event = 0;
    std::vector<int64_t> pos;  // per key: its stream position
    std::vector<int64_t> exhausted_at, delivered;
    size_t segments = 0, entries = 0;  // segments_ / entries_ sizes at this point
  };
  // Plans from `cursor` on with log_ until the data or the log run out; remembers the cursor
  // where the last event took effect.
  void Run(Cursor cursor);

  std::vector<int64_t> key_supply_;
  std::vector<MixtureEvent> log_;
  int64_t chunk_size_ = 0;
  bool strict_ = true;
  PlanUnits units_;
  bool last_event_reached_ = false;  // the last run got to log_.back()'s start chunk
  Cursor last_event_;                // the planner's state there
  std::vector<PlanSegment> segments_;
  std::vector<PlanEntry> entries_;
  std::vector<int64_t> exhausted_at_, delivered_;
  int64_t num_chunks_ = 0;
  std::string end_reason_;
};

}  // namespace mixtera::chunk
