// libonnx's model checker and strict shape inference behind a plain C interface.
//
// Every function takes a serialized onnx.ModelProto, never throws (C++ exceptions are caught at
// this boundary and turned into an error string), and returns one of the status codes below.
// Strings and byte buffers handed out are allocated with malloc; release them with
// onnx_checker_free.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    ONNX_CHECKER_OK = 0,
    /// The bytes are not a ModelProto (or exceed protobuf's 2 GiB message limit).
    ONNX_CHECKER_PARSE_ERROR = 1,
    /// onnx::checker::check_model rejected the model; *error says why.
    ONNX_CHECKER_INVALID_MODEL = 2,
    /// onnx::shape_inference::InferShapes failed; *error says why.
    ONNX_CHECKER_INFERENCE_ERROR = 3,
    /// Any other failure inside libonnx (out of memory, unexpected exception).
    ONNX_CHECKER_INTERNAL_ERROR = 4,
};

/// Runs onnx::checker::check_model on the model. On failure *error receives a message.
int onnx_checker_check_model(const void *bytes, size_t length, char **error);

/// Runs onnx::shape_inference::InferShapes with check_type = true, error_mode = 1 (node-level
/// inference errors throw) and data propagation off. On success *inferred/*inferred_length
/// receive the model re-serialized with ONNX's value_info; on failure *error a message.
int onnx_checker_infer_shapes(const void *bytes, size_t length,
                              unsigned char **inferred, size_t *inferred_length, char **error);

/// Highest IR version this libonnx knows (onnx::Version IR_VERSION).
int onnx_checker_max_ir_version(void);

/// Highest opset of the default domain ("ai.onnx") this libonnx's schema registry knows.
int onnx_checker_max_opset(void);

/// Releases a string or buffer returned by the functions above. NULL is ignored.
void onnx_checker_free(void *pointer);

#ifdef __cplusplus
}
#endif
