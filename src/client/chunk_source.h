// ChunkSource: where a SampleStream gets its chunks (DESIGN.md §3.8). A stream asks for the
// consumer's chunks in order; before handing one out it tells the source the consumer starts
// it (a live job's owner then decides the chunks the job's lag allows). Sources:
//   - JobChunkSource: a job in memory that nobody changes while it streams (tests, CLI);
//   - ManagedChunkSource: a job of a JobManager — the owner's view (deciding) or a reader's;
//   - FollowingChunkSource: a job folder opened read-only, following its state log across
//     processes (DataLoader workers);
// and later the server's remote source.
//
// Thread safety: WaitForChunk and StartChunk may be called from different threads (a
// stream's prefetch thread and its consumer); one WaitForChunk at a time. Wake from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "chunk/job.h"
#include "mixtera/result.h"

namespace mixtera::engine {
class JobManager;
}

namespace mixtera::client {

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // The job's definition (files, topology, packing); valid for the source's lifetime.
  virtual const chunk::Job& job() const = 0;
  // The consumer starts chunk k (it is about to receive the chunk's first item).
  virtual Status StartChunk(int64_t k) = 0;
  // Chunk k, waiting while it is undecided (no polling) until `*cancel` is set and Wake()
  // called (Cancelled). Returns kChunk or kEnd.
  virtual Result<chunk::ChunkReply> WaitForChunk(int64_t k, const std::atomic<bool>* cancel) = 0;
  virtual void Wake() = 0;
};

std::unique_ptr<ChunkSource> JobChunkSource(std::shared_ptr<const chunk::Job> job);

// `decide`: StartChunk decides chunks (the consumer is the job's own consumer in the owner
// process); false: the stream only reads (someone else reports positions, e.g.
// mixtera.torch.MixteraDataLoader for its workers). Errors: those of JobManager::Get.
Result<std::unique_ptr<ChunkSource>> ManagedChunkSource(std::shared_ptr<engine::JobManager> jobs,
                                                        const std::string& job_id, bool decide);

// Opens the job folder `job_dir` read-only; a dynamic job's state log is followed (inotify).
// Errors: those of chunk::Job::Open and JobStateFollower::Open.
Result<std::unique_ptr<ChunkSource>> FollowingChunkSource(const std::string& job_dir);

}  // namespace mixtera::client
