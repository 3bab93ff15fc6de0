#include <stdexcept>
#include "options.h"
namespace gnconvert {
int run_prune(const PruneOptions&) { throw std::runtime_error("prune: not built yet"); }
int run_export(const ExportOptions&) { throw std::runtime_error("export: not built yet"); }
}
