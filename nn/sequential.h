#pragma once
// Sequential: single-input modules applied in order; children are named "0", "1", ...
#include <initializer_list>

#include "nn/module.h"

namespace ember::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<ModulePtr> modules);

  Sequential& push_back(ModulePtr module);
  Tensor forward(const Tensor& x) override;

  size_t size() const { return modules_.size(); }
  const ModulePtr& operator[](size_t i) const;
  // Module i as its concrete type; throws if it is another type.
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    check(m != nullptr, "Sequential: module ", i, " is ", (*this)[i]->describe(), ", not the type asked for");
    return m;
  }

 private:
  std::vector<ModulePtr> modules_;
};

}  // namespace ember::nn
