#include "chunk/plan.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/macros.h"
#include "base/strings.h"
#include "mixture/apportion.h"

namespace mixtera::chunk {

std::vector<int64_t> ChunkCounts(int64_t chunk_size, const std::vector<double>& weights,
                                 const PlanUnits& units) {
  if (units.window_stride <= 0) return mixture::LargestRemainder(chunk_size, weights);
  const int64_t windows =
      std::max<int64_t>(1, (chunk_size - units.window_extra) / units.window_stride);
  std::vector<int64_t> counts = mixture::LargestRemainder(windows, weights);
  for (int64_t& c : counts) {
    if (c > 0) c = c * units.window_stride + units.window_extra;
  }
  return counts;
}

const PlanSegment& Plan::SegmentOf(int64_t k) const {
  MIXTERA_CHECK(k >= 0 && k < num_chunks_);
  auto it = std::upper_bound(segments_.begin(), segments_.end(), k,
                             [](int64_t v, const PlanSegment& s) { return v < s.first_chunk; });
  return *(it - 1);
}

Plan Plan::Build(const std::vector<int64_t>& key_supply, const std::vector<MixtureEvent>& log,
                 int64_t chunk_size, bool strict, const PlanUnits& units) {
  MIXTERA_CHECK(!log.empty() && log[0].start_chunk == 0 && chunk_size > 0);
  Plan plan;
  plan.key_supply_ = key_supply;
  plan.log_ = log;
  plan.chunk_size_ = chunk_size;
  plan.strict_ = strict;
  plan.units_ = units;
  Cursor start;
  const size_t K = key_supply.size();
  start.pos.assign(K, 0);
  start.exhausted_at.assign(K, -1);
  start.delivered.assign(K, 0);
  plan.Run(std::move(start));
  return plan;
}

void Plan::Extend(const MixtureEvent& event) {
  MIXTERA_CHECK(event.start_chunk > log_.back().start_chunk &&
                event.weights.size() == key_supply_.size());
  log_.push_back(event);
  // A plan that ended before its last event took effect ends there whatever comes later.
  if (!last_event_reached_) return;
  segments_.resize(last_event_.segments);
  entries_.resize(last_event_.entries);
  Run(last_event_);
}

void Plan::Run(Cursor cursor) {
  const std::vector<int64_t>& key_supply = key_supply_;
  const std::vector<MixtureEvent>& log = log_;
  const int64_t chunk_size = chunk_size_;
  const bool strict = strict_;
  const PlanUnits& units = units_;
  const size_t K = key_supply.size();
  Plan& plan = *this;
  std::vector<int64_t>& pos = cursor.pos;
  int64_t& chunk = cursor.chunk;
  size_t& event = cursor.event;
  last_event_reached_ = false;

  auto left = [&](size_t k) { return key_supply[k] - pos[k]; };
  auto add_segment = [&](int64_t n, const std::vector<int64_t>& counts, bool partial) {
    PlanSegment seg;
    seg.first_chunk = chunk;
    seg.num_chunks = n;
    seg.mixture_id = static_cast<int32_t>(event);
    seg.partial = partial;
    seg.entry_begin = static_cast<uint32_t>(plan.entries_.size());
    for (size_t k = 0; k < K; ++k) {
      if (counts[k] == 0) continue;
      plan.entries_.push_back({static_cast<int32_t>(k), counts[k], pos[k]});
      pos[k] += n * counts[k];
      cursor.delivered[k] += n * counts[k];
      if (pos[k] == key_supply[k]) cursor.exhausted_at[k] = chunk + n - 1;
    }
    seg.entry_end = static_cast<uint32_t>(plan.entries_.size());
    plan.segments_.push_back(seg);
    chunk += n;
  };

  while (true) {
    while (event + 1 < log.size() && log[event + 1].start_chunk <= chunk) ++event;
    if (event + 1 == log.size() && !last_event_reached_) {
      // Where the last event takes effect: Extend resumes here.
      last_event_reached_ = true;
      cursor.segments = segments_.size();
      cursor.entries = entries_.size();
      last_event_ = cursor;
    }
    const int64_t next_event =
        event + 1 < log.size() ? log[event + 1].start_chunk : std::numeric_limits<int64_t>::max();
    const std::vector<double>& w = log[event].weights;
    MIXTERA_CHECK(w.size() == K);
    // The keys taking part: weight > 0, and (best effort) data left.
    std::vector<double> active_w(K, 0);
    bool any = false;
    for (size_t k = 0; k < K; ++k) {
      if (w[k] > 0 && (strict || left(k) > 0)) {
        active_w[k] = w[k];
        any = true;
      }
    }
    if (!any) {
      plan.end_reason_ = "all keys with weight ran out";
      break;
    }
    const std::vector<int64_t> counts = ChunkCounts(chunk_size, active_w, units);
    int64_t full = next_event - chunk;
    for (size_t k = 0; k < K; ++k) {
      if (counts[k] > 0) full = std::min(full, left(k) / counts[k]);
    }
    if (full > 0) {
      add_segment(full, counts, false);
      continue;
    }
    // Some key cannot fill its count in this chunk.
    size_t short_key = 0;
    for (size_t k = 0; k < K; ++k) {
      if (counts[k] > left(k)) {
        short_key = k;
        break;
      }
    }
    if (strict) {
      plan.end_reason_ = StrCat("strict: key ", short_key, " ran out at chunk ", chunk);
      break;
    }
    // Best effort: short keys give what they have; the deficit goes to keys with data left,
    // in whole windows with window units (a sub-window remainder stays unfilled).
    const int64_t unit = std::max<int64_t>(1, units.window_stride);
    std::vector<int64_t> take(K, 0);
    int64_t deficit = 0;
    for (size_t k = 0; k < K; ++k) {
      take[k] = std::min(counts[k], left(k));
      deficit += counts[k] - take[k];
    }
    deficit /= unit;
    while (deficit > 0) {
      std::vector<int64_t> share(K, 0);
      bool donors = false, counted = false;
      for (size_t k = 0; k < K; ++k) {
        if (active_w[k] > 0 && left(k) - take[k] > 0) {
          donors = true;
          share[k] = counts[k];
          counted |= counts[k] > 0;
        }
      }
      if (!donors) break;
      if (!counted) {  // only keys whose count rounded to 0 have data: split by their data
        for (size_t k = 0; k < K; ++k) {
          if (active_w[k] > 0) share[k] = left(k) - take[k];
        }
      }
      const std::vector<int64_t> extra = mixture::LargestRemainderExact(deficit, share);
      int64_t given = 0;
      for (size_t k = 0; k < K; ++k) {
        const int64_t e = std::min(extra[k] * unit, left(k) - take[k]);
        take[k] += e;
        given += (e + unit - 1) / unit;
      }
      deficit -= given;
      if (given == 0) break;
    }
    int64_t total = 0;
    for (int64_t t : take) total += t;
    if (total == 0) {
      plan.end_reason_ = "all keys with weight ran out";
      break;
    }
    add_segment(1, take, deficit > 0);
    if (deficit > 0) {
      plan.end_reason_ = "all keys with weight ran out";
      break;
    }
  }
  plan.num_chunks_ = chunk;
  plan.exhausted_at_ = cursor.exhausted_at;
  plan.delivered_ = cursor.delivered;
}

}  // namespace mixtera::chunk
