#include "base/thread_pool.h"

#include <atomic>

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

}  // namespace
}  // namespace mixtera
