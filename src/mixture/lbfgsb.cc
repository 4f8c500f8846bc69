#include "mixture/lbfgsb.h"

#include <cstddef>
#include <cstring>

// L-BFGS-B 3.0's driver routine (liblbfgsb, Fortran). Character arguments carry their lengths
// as hidden trailing arguments; LOGICAL is a 4-byte integer.
extern "C" void setulb_(int* n, int* m, double* x, double* l, double* u, int* nbd, double* f,
                        double* g, double* factr, double* pgtol, double* wa, int* iwa, char* task,
                        int* iprint, char* csave, int* lsave, int* isave, double* dsave,
                        size_t task_len, size_t csave_len);

namespace mixtera::mixture {
namespace {

constexpr size_t kTaskLength = 60;

bool TaskIs(const char* task, const char* prefix) {
  return std::strncmp(task, prefix, std::strlen(prefix)) == 0;
}

void SetTask(char* task, const char* text) {
  std::memset(task, ' ', kTaskLength);
  std::memcpy(task, text, std::strlen(text));
}

}  // namespace

LbfgsbResult MinimizeLbfgsb(const ObjectiveWithGradient& f, std::vector<double> x0,
                            const LbfgsbOptions& options) {
  int n = static_cast<int>(x0.size());
  int m = options.memory;
  std::vector<double> lower(x0.size(), 0), upper(x0.size(), 0);
  std::vector<int> nbd(x0.size(), 0);  // 0: unbounded
  std::vector<double> g(x0.size(), 0);
  std::vector<double> wa(static_cast<size_t>(2 * m * n + 5 * n + 11 * m * m + 8 * m), 0);
  std::vector<int> iwa(static_cast<size_t>(3 * n), 0);
  char task[kTaskLength];
  char csave[kTaskLength];
  std::memset(csave, ' ', kTaskLength);
  int lsave[4] = {0, 0, 0, 0};
  int isave[44] = {0};
  double dsave[29] = {0};
  int iprint = -1;
  double factr = options.factr;
  double pgtol = options.pgtol;
  double fx = 0;
  LbfgsbResult result;
  SetTask(task, "START");
  while (true) {
    setulb_(&n, &m, x0.data(), lower.data(), upper.data(), nbd.data(), &fx, g.data(), &factr,
            &pgtol, wa.data(), iwa.data(), task, &iprint, csave, lsave, isave, dsave, kTaskLength,
            kTaskLength);
    if (TaskIs(task, "FG")) {
      fx = f(x0.data(), g.data());
      ++result.evaluations;
    } else if (TaskIs(task, "NEW_X")) {
      ++result.iterations;
      if (result.iterations >= options.max_iterations) {
        SetTask(task, "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT");
      } else if (result.evaluations > options.max_evaluations) {
        SetTask(task, "STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT");
      }
    } else {
      break;
    }
  }
  result.converged = TaskIs(task, "CONV");
  size_t len = kTaskLength;
  while (len > 0 && task[len - 1] == ' ') --len;
  result.message.assign(task, len);
  result.x = std::move(x0);
  result.f = fx;
  return result;
}

}  // namespace mixtera::mixture
