// Contract: see include/onnx_checker.h. No C++ exception crosses into the caller.
#include "onnx_checker.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

namespace {

char *copy_string(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p != nullptr) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

void set_error(char **error, const std::string &message) {
    if (error != nullptr) *error = copy_string(message);
}

bool parse(const void *bytes, size_t length, onnx::ModelProto &model, char **error) {
    if (length > static_cast<size_t>(INT_MAX)) {
        set_error(error, "serialized model of " + std::to_string(length) +
                             " bytes exceeds protobuf's 2 GiB message limit");
        return false;
    }
    if (!model.ParseFromArray(bytes, static_cast<int>(length))) {
        set_error(error, "bytes do not parse as onnx.ModelProto");
        return false;
    }
    return true;
}

}  // namespace

extern "C" int onnx_checker_check_model(const void *bytes, size_t length, char **error) {
    if (error != nullptr) *error = nullptr;
    try {
        onnx::ModelProto model;
        if (!parse(bytes, length, model, error)) return ONNX_CHECKER_PARSE_ERROR;
        onnx::checker::check_model(model);
        return ONNX_CHECKER_OK;
    } catch (const onnx::checker::ValidationError &e) {
        set_error(error, e.what());
        return ONNX_CHECKER_INVALID_MODEL;
    } catch (const std::exception &e) {
        set_error(error, e.what());
        return ONNX_CHECKER_INTERNAL_ERROR;
    } catch (...) {
        set_error(error, "unknown C++ exception in onnx::checker::check_model");
        return ONNX_CHECKER_INTERNAL_ERROR;
    }
}

extern "C" int onnx_checker_infer_shapes(const void *bytes, size_t length,
                                         unsigned char **inferred, size_t *inferred_length,
                                         char **error) {
    if (error != nullptr) *error = nullptr;
    if (inferred != nullptr) *inferred = nullptr;
    if (inferred_length != nullptr) *inferred_length = 0;
    try {
        onnx::ModelProto model;
        if (!parse(bytes, length, model, error)) return ONNX_CHECKER_PARSE_ERROR;
        onnx::ShapeInferenceOptions options(/*check_type=*/true, /*error_mode=*/1,
                                            /*enable_data_propagation=*/false);
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
        std::string out;
        if (!model.SerializeToString(&out)) {
            set_error(error, "cannot re-serialize the inferred model");
            return ONNX_CHECKER_INTERNAL_ERROR;
        }
        unsigned char *buffer = static_cast<unsigned char *>(std::malloc(out.empty() ? 1 : out.size()));
        if (buffer == nullptr) {
            set_error(error, "out of memory copying the inferred model");
            return ONNX_CHECKER_INTERNAL_ERROR;
        }
        std::memcpy(buffer, out.data(), out.size());
        if (inferred != nullptr) *inferred = buffer; else std::free(buffer);
        if (inferred_length != nullptr) *inferred_length = out.size();
        return ONNX_CHECKER_OK;
    } catch (const onnx::InferenceError &e) {
        set_error(error, e.what());
        return ONNX_CHECKER_INFERENCE_ERROR;
    } catch (const onnx::checker::ValidationError &e) {
        set_error(error, e.what());
        return ONNX_CHECKER_INFERENCE_ERROR;
    } catch (const std::exception &e) {
        set_error(error, e.what());
        return ONNX_CHECKER_INTERNAL_ERROR;
    } catch (...) {
        set_error(error, "unknown C++ exception in onnx::shape_inference::InferShapes");
        return ONNX_CHECKER_INTERNAL_ERROR;
    }
}

extern "C" int onnx_checker_max_ir_version(void) { return static_cast<int>(onnx::IR_VERSION); }

extern "C" int onnx_checker_max_opset(void) {
    try {
        const auto &map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
        auto it = map.find(onnx::ONNX_DOMAIN);
        return it == map.end() ? 0 : it->second.second;
    } catch (...) {
        return 0;
    }
}

extern "C" void onnx_checker_free(void *pointer) { std::free(pointer); }
