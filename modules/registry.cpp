// Native modules built into procrun, by require name.
#include "runtime/builtins.hpp"

namespace procrun {

extern const NativeModule kNativeModules[] = {
    {nullptr, nullptr},
};

}  // namespace procrun
