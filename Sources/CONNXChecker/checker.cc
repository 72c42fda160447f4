#include "onnx_checker.h"
