#include "mixing_bindings.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "mixture/ado.h"
#include "mixture/dynamic_mixing.h"
#include "status_bridge.h"

namespace mixtera::python {
namespace {

namespace py = pybind11;
using mixture::AdoDynamicMixing;
using mixture::AdoOptions;
using mixture::DynamicMixingAlgorithm;

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// Owns one algorithm through its driver (engine/job_manager.h), which a live job shares; the
// Python wrapper (mixtera.dynamic_mixing) holds one of these. Every access takes the
// driver's lock.
class PyAlgorithm {
 protected:
  // fn(algorithm) under the driver's lock, without the GIL: fn must not touch Python objects
  // (return copies).
  template <typename Fn>
  auto With(Fn fn) const {
    py::gil_scoped_release release;
    return driver_->WithAlgorithm(std::move(fn));
  }

 public:
  explicit PyAlgorithm(std::unique_ptr<DynamicMixingAlgorithm> alg)
      : driver_(std::make_shared<engine::AlgorithmDriver>(std::move(alg))) {}
  const std::shared_ptr<engine::AlgorithmDriver>& driver() const { return driver_; }

  // Returns the new mixture (float64 array over key ids) or None.
  py::object ProcessLosses(py::array_t<float, py::array::c_style | py::array::forcecast> losses,
                           py::array_t<int64_t, py::array::c_style | py::array::forcecast> counts,
                           int64_t mixture_id) {
    if (losses.ndim() != 1 || counts.ndim() != 1) {
      ThrowStatus(Status::InvalidArgument("feedback: losses and counts must be 1-d arrays"));
    }
    std::span<const float> l(losses.data(), static_cast<size_t>(losses.size()));
    std::span<const int64_t> c(counts.data(), static_cast<size_t>(counts.size()));
    Result<std::optional<std::vector<double>>> result = Status::Internal("not run");
    {
      py::gil_scoped_release release;
      result = driver_->WithAlgorithm(
          [&](DynamicMixingAlgorithm& a) { return a.ProcessLosses(l, c, mixture_id); });
    }
    std::optional<std::vector<double>> mixture = ValueOrThrow(std::move(result));
    if (!mixture) return py::none();
    return ToArray(*mixture);
  }

  py::array_t<double> initial_mixture() const {
    return ToArray(With([](DynamicMixingAlgorithm& a) { return a.initial_mixture(); }));
  }
  void set_initial_mixture(py::array_t<double, py::array::c_style | py::array::forcecast> m) {
    std::vector<double> v(m.data(), m.data() + m.size());
    With([&](DynamicMixingAlgorithm& a) { a.set_initial_mixture(std::move(v)); });
  }
  py::array_t<float> losses() const {
    return ToArray(With([](DynamicMixingAlgorithm& a) { return a.losses(); }));
  }
  py::array_t<int64_t> counts() const {
    return ToArray(With([](DynamicMixingAlgorithm& a) { return a.counts(); }));
  }
  int64_t last_received_mixture() const {
    return With([](DynamicMixingAlgorithm& a) { return a.last_received_mixture(); });
  }
  void ResetState() {
    With([](DynamicMixingAlgorithm& a) { a.ResetState(); });
  }

 private:
  std::shared_ptr<engine::AlgorithmDriver> driver_;
};

class PyAdo : public PyAlgorithm {
 public:
  static std::unique_ptr<PyAdo> Create(const AdoOptions& options) {
    auto ado = ValueOrThrow(AdoDynamicMixing::Create(options));
    return std::unique_ptr<PyAdo>(new PyAdo(std::move(ado)));
  }
  // fn(ado) under the driver's lock (see With).
  template <typename Fn>
  auto Ado(Fn fn) const {
    return With([&](DynamicMixingAlgorithm& a) { return fn(static_cast<AdoDynamicMixing&>(a)); });
  }

  // (keys x 3) float64: log β, log ε, α per key id; None before the first refit.
  py::object scaling_law_params() const {
    const auto params = Ado([](AdoDynamicMixing& a) { return a.scaling_law_params(); });
    if (params.empty()) return py::none();
    py::array_t<double> out({static_cast<py::ssize_t>(params.size()), py::ssize_t{3}});
    auto view = out.mutable_unchecked<2>();
    for (size_t k = 0; k < params.size(); ++k) {
      for (size_t j = 0; j < 3; ++j) view(k, j) = params[k][j];
    }
    return out;
  }
  static py::object MaybeArray(const std::vector<double>& v) {
    if (v.empty()) return py::none();
    return ToArray(v);
  }

 private:
  explicit PyAdo(std::unique_ptr<AdoDynamicMixing> ado) : PyAlgorithm(std::move(ado)) {}
};

}  // namespace

std::shared_ptr<engine::MixingDriver> NativeDriverOf(py::handle native) {
  if (!py::isinstance<PyAlgorithm>(native)) return nullptr;
  return native.cast<const PyAlgorithm&>().driver();
}

void BindMixingAlgorithms(py::module_& m) {
  py::class_<PyAlgorithm>(m, "MixingAlgorithm")
      .def("process_losses", &PyAlgorithm::ProcessLosses, py::arg("losses"), py::arg("counts"),
           py::arg("mixture_id"))
      .def_property("initial_mixture", &PyAlgorithm::initial_mixture,
                    &PyAlgorithm::set_initial_mixture)
      .def_property_readonly("losses", &PyAlgorithm::losses)
      .def_property_readonly("counts", &PyAlgorithm::counts)
      .def_property_readonly("last_received_mixture", &PyAlgorithm::last_received_mixture)
      .def("reset_state", &PyAlgorithm::ResetState);
  m.def("simple_averaging_algorithm",
        [] { return std::make_unique<PyAlgorithm>(std::make_unique<mixture::SimpleAveraging>()); });
  py::class_<PyAdo, PyAlgorithm>(m, "AdoAlgorithm")
      .def(py::init([](const std::string& variant, double gamma1, double gamma2, double s,
                       double delta_min, int64_t scaling_law_update_interval,
                       int64_t subsampling_interval, int64_t ignore_initial_steps,
                       int64_t start_step, bool savgol, bool use_same_step_size,
                       std::optional<double> count_normalizer, int fit_threads, bool keep_log) {
             AdoOptions o;
             o.variant = variant;
             o.gamma1 = gamma1;
             o.gamma2 = gamma2;
             o.s = s;
             o.delta_min = delta_min;
             o.scaling_law_update_interval = scaling_law_update_interval;
             o.subsampling_interval = subsampling_interval;
             o.ignore_initial_steps = ignore_initial_steps;
             o.start_step = start_step;
             o.savgol = savgol;
             o.use_same_step_size = use_same_step_size;
             o.count_normalizer = count_normalizer;
             o.fit_threads = fit_threads;
             o.keep_log = keep_log;
             return PyAdo::Create(o);
           }),
           py::arg("variant"), py::arg("gamma1"), py::arg("gamma2"), py::arg("s"),
           py::arg("delta_min"), py::arg("scaling_law_update_interval"),
           py::arg("subsampling_interval"), py::arg("ignore_initial_steps"), py::arg("start_step"),
           py::arg("savgol"), py::arg("use_same_step_size"), py::arg("count_normalizer"),
           py::arg("fit_threads"), py::arg("keep_log"))
      .def_property_readonly("scaling_law_params", &PyAdo::scaling_law_params)
      .def_property_readonly(
          "total_steps",
          [](const PyAdo& a) { return a.Ado([](AdoDynamicMixing& x) { return x.total_steps(); }); })
      .def_property_readonly(
          "mu_k",
          [](const PyAdo& a) {
            return PyAdo::MaybeArray(a.Ado([](AdoDynamicMixing& x) { return x.mu(); }));
          })
      .def_property_readonly(
          "h_t",
          [](const PyAdo& a) {
            return PyAdo::MaybeArray(a.Ado([](AdoDynamicMixing& x) { return x.h(); }));
          })
      .def_property_readonly(
          "pi_t",
          [](const PyAdo& a) {
            return PyAdo::MaybeArray(a.Ado([](AdoDynamicMixing& x) { return x.pi(); }));
          })
      .def_property_readonly(
          "pi_bar_t_minus_1",
          [](const PyAdo& a) {
            return PyAdo::MaybeArray(a.Ado([](AdoDynamicMixing& x) { return x.pi_bar(); }));
          })
      .def_property_readonly(
          "rho_t",
          [](const PyAdo& a) {
            return PyAdo::MaybeArray(a.Ado([](AdoDynamicMixing& x) { return x.rho(); }));
          })
      .def_property_readonly("fit_failures",
                             [](const PyAdo& a) {
                               return a.Ado([](AdoDynamicMixing& x) { return x.fit_failures(); });
                             })
      .def_property_readonly(
          "log_due",
          [](const PyAdo& a) { return a.Ado([](AdoDynamicMixing& x) { return x.log_due(); }); })
      .def("log_json",
           [](const PyAdo& a) { return a.Ado([](AdoDynamicMixing& x) { return x.LogJson(); }); });
}

}  // namespace mixtera::python
