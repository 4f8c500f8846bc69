#include "model/mixture_spec.h"

namespace mixtera::model {

const char* MixtureTypeName(MixtureType type) {
  switch (type) {
    case MixtureType::kStatic:
      return "static";
    case MixtureType::kInferring:
      return "inferring";
    case MixtureType::kArbitrary:
      return "arbitrary";
    case MixtureType::kHierarchical:
      return "hierarchical";
    case MixtureType::kSchedule:
      return "schedule";
    case MixtureType::kDynamic:
      return "dynamic";
  }
  return "?";
}

const char* ChunkUnitName(ChunkUnit unit) {
  return unit == ChunkUnit::kTokens ? "tokens" : "samples";
}

}  // namespace mixtera::model
