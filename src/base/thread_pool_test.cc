#include "base/thread_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "testing/test_util.h"

namespace mixtera {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskBeforeWaitReturns) {
  ThreadPool pool(3);
  std::atomic<int> sum{0};
  for (int i = 1; i <= 1000; ++i) pool.Submit([&sum, i] { sum += i; });
  pool.Wait();
  EXPECT_EQ(sum.load(), 500500);
}

TEST(ThreadPoolTest, StopDrainsQueuedTasks) {
  std::atomic<int> count{0};
  {
    ThreadPool pool(1);
    for (int i = 0; i < 50; ++i) pool.Submit([&count] { ++count; });
  }
  EXPECT_EQ(count.load(), 50);
}

// The thread's own nice value (Linux: per thread).
int ThreadNice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))); }

TEST(ThreadPoolTest, WorkersRunAtTheRequestedNiceIncrement) {
  const int creator = ThreadNice();
  ASSERT_LE(creator, 15) << "the test needs room below the cap of 19";
  for (int increment : {0, 3, 40}) {
    SCOPED_TRACE(increment);
    std::mutex mu;
    std::vector<int> seen;
    {
      ThreadPool pool(2, increment);
      for (int i = 0; i < 8; ++i) {
        pool.Submit([&] {
          std::lock_guard<std::mutex> lock(mu);
          seen.push_back(ThreadNice());
        });
      }
    }
    ASSERT_EQ(seen.size(), 8u);
    for (int nice : seen) EXPECT_EQ(nice, std::min(creator + increment, 19));
    EXPECT_EQ(ThreadNice(), creator);  // the creating thread keeps its own
  }
}

}  // namespace
}  // namespace mixtera
