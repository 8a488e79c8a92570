"""Schemathesis hooks for `make api-check` (loaded through SCHEMATHESIS_HOOKS by api_fuzz.sh)."""
import schemathesis

# Bodies whose grammar OpenAPI cannot state. A CSV training body is a string to JSON Schema:
# its header, its field counts and the query parameters that name its target column (taken
# only with a CSV body) are beyond a schema. A V2 binary body is a JSON header whose length
# comes in the Inference-Header-Content-Length request header, followed by raw FP32 bytes. A
# generated body of either kind would be a 400 the schema cannot predict, so they are left
# out; the Swift suites (APIErrorTests and WalkthroughTests for CSV, V2BinaryProtocolTests), the tritonclient check and the
# fuzz harnesses cover them. JSON bodies of the same routes are generated as usual.
UNDESCRIBED_MEDIA_TYPES = {"text/csv", "application/octet-stream"}


@schemathesis.hook
def filter_case(context, case):
    return case.media_type not in UNDESCRIBED_MEDIA_TYPES
