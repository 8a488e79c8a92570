#!/usr/bin/env python3
"""Validates Axon's Kubernetes and KServe manifests offline (`make manifests-check`).

    validate.py [--kubernetes-version 1.33] FILE.yaml...   (files may hold several documents)

- Kubernetes kinds: kubernetes-validate (PyPI), strict (unknown fields are errors), against the
  JSON schemas it ships for the Kubernetes version given.
- KServe kinds (serving.kserve.io): a strict JSON schema built here from the KServe Python
  SDK's generated models (PyPI `kserve`, installed without its dependencies and never
  imported): each model's `openapi_types` and `attribute_map` give its fields and their types,
  its "must not be None" checks its required fields; Kubernetes types inside them (containers,
  probes, resources) resolve to kubernetes-validate's schemas.
- Axon's own rules: images by a pinned tag (never :latest or none), the runtime serves
  /mnt/models read-only, and each InferenceService asks for a model format and runtime that
  a runtime in the same files supports.
- A self-test first: misspelled fields in a Deployment and in an InferenceService must fail,
  so a validator that accepts everything cannot pass.
"""

import argparse
import ast
import copy
import importlib.metadata
import json
import os
import re
import sys

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

KSERVE_ID = "https://axon.invalid/kserve.json"
K8S_ID = "https://kubernetes.io/api/_definitions.json"
SCALARS = {"str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
           "bool": {"type": "boolean"}, "object": {}, "datetime": {"type": "string"}, "date": {"type": "string"}}


def kserve_models():
    """{class name: (fields {json key: type string}, required json keys)} from the SDK's sources."""
    directory = importlib.metadata.distribution("kserve").locate_file("kserve/models")
    models = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py") or name == "__init__.py":
            continue
        with open(os.path.join(directory, name)) as f:
            source = f.read()
        for node in ast.parse(source).body:
            if not isinstance(node, ast.ClassDef):
                continue
            tables = {}
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Dict):
                    target = statement.targets[0]
                    if isinstance(target, ast.Name) and target.id in ("openapi_types", "attribute_map"):
                        tables[target.id] = ast.literal_eval(statement.value)
            if "openapi_types" not in tables:
                continue
            attributes = tables.get("attribute_map", {})
            fields = {attributes.get(k, k): v for k, v in tables["openapi_types"].items()}
            body = ast.get_source_segment(source, node) or ""
            required = {attributes.get(k, k) for k in re.findall(r"Invalid value for `(\w+)`, must not be `None`", body)}
            models[node.name] = (fields, sorted(required))
    return models


def kubernetes_index(definitions):
    """SDK class names (V1Container, ResourceQuantity) -> Kubernetes definition keys."""
    index = {}
    for key in definitions:
        parts = key.split(".")
        version, kind = parts[-2], parts[-1]
        index.setdefault(version[:1].upper() + version[1:] + kind, key)
        # Fully qualified, as the SDK names types of other API groups: K8sIoApiAppsV1DeploymentStrategy.
        if key.startswith("io.k8s."):
            index.setdefault("K8sIo" + "".join(p[:1].upper() + p[1:] for p in parts[2:]), key)
    return index


def type_schema(text, models, index, unknown):
    text = text.strip()
    if text in SCALARS:
        return SCALARS[text]
    match = re.fullmatch(r"list\[(.*)\]", text)
    if match:
        return {"type": "array", "items": type_schema(match.group(1), models, index, unknown)}
    match = re.fullmatch(r"dict\(str, (.*)\)", text)
    if match:
        return {"type": "object", "additionalProperties": type_schema(match.group(1), models, index, unknown)}
    if text in models:
        return {"$ref": f"#/$defs/{text}"}
    if text in index:
        return {"$ref": f"{K8S_ID}#/$defs/{index[text]}"}
    unknown.add(text)
    return {}


def kserve_schema(models, index):
    unknown = set()
    definitions = {}
    for name, (fields, required) in models.items():
        definitions[name] = {
            "type": "object",
            "properties": {key: type_schema(kind, models, index, unknown) for key, kind in fields.items()},
            "required": required,
            "additionalProperties": False,
        }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": KSERVE_ID, "$defs": definitions}, unknown


class Validator:
    def __init__(self, version):
        self.version = version
        base = os.path.dirname(kubernetes_validate.__file__)
        strict = f"v{version}.0-local-strict"
        with open(os.path.join(base, "kubernetes-json-schema", strict, "_definitions.json")) as f:
            k8s = json.load(f)
        self.models = kserve_models()
        schema, self.unknown = kserve_schema(self.models, kubernetes_index(k8s["$defs"]))
        self.registry = Registry().with_resources([(K8S_ID, Resource.from_contents(k8s)), (KSERVE_ID, Resource.from_contents(schema))])

    def problems(self, document):
        """Every schema problem of one document, as 'path: message' lines."""
        group, _, version = document.get("apiVersion", "").rpartition("/")
        kind = document.get("kind", "")
        if group == "serving.kserve.io":
            name = version[:1].upper() + version[1:] + kind
            if name not in self.models:
                return [f"no KServe SDK model {name} for {document.get('apiVersion')} {kind}"]
            validator = jsonschema.Draft202012Validator({"$ref": f"{KSERVE_ID}#/$defs/{name}"}, registry=self.registry)
            return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(document)]
        try:
            kubernetes_validate.validate(document, self.version, strict=True)
        except kubernetes_validate.ValidationError as e:
            return [f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}"]
        except kubernetes_validate.SchemaNotFoundError as e:
            return [e.message]
        return []


def images(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from images(value)
    elif isinstance(node, list):
        for value in node:
            yield from images(value)


def axon_rules(documents):
    problems = []
    formats = {}
    for label, document in documents:
        for image in images(document):
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest":
                problems.append(f"{label}: image {image} is not pinned to a tag")
        if document.get("kind") in ("ServingRuntime", "ClusterServingRuntime"):
            spec = document.get("spec", {})
            formats[document["metadata"]["name"]] = {f.get("name") for f in spec.get("supportedModelFormats", [])}
            args = [a for c in spec.get("containers", []) for a in c.get("args", [])]
            for needed in ("--read-only", "--state-dir=/mnt/models"):
                if needed not in args:
                    problems.append(f"{label}: the runtime's container lacks {needed}")
    for label, document in documents:
        if document.get("kind") == "InferenceService":
            model = document.get("spec", {}).get("predictor", {}).get("model", {})
            runtime = model.get("runtime")
            wanted = model.get("modelFormat", {}).get("name")
            if runtime is not None and runtime not in formats:
                problems.append(f"{label}: runtime {runtime} is not defined in these files")
            elif wanted not in set().union(*formats.values()) if formats else True:
                problems.append(f"{label}: no runtime here supports model format {wanted}")
            elif runtime is not None and wanted not in formats[runtime]:
                problems.append(f"{label}: runtime {runtime} does not support model format {wanted}")
    return problems


def self_test(validator, documents):
    """Misspelled fields must be caught, or the check could pass anything."""
    failures = []
    for kind, mutate in (
        ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0].__setitem__("imagePullPolicyy", "Always")),
        ("InferenceService", lambda d: d["spec"]["predictor"]["model"].__setitem__("storageURI", "s3://x")),
        ("ClusterServingRuntime", lambda d: d["spec"]["containers"][0]["readinessProbe"].__setitem__("periodSeconds", "2")),
    ):
        sample = next((d for _, d in documents if d.get("kind") == kind), None)
        if sample is None:
            failures.append(f"self-test: no {kind} among the files")
            continue
        broken = copy.deepcopy(sample)
        mutate(broken)
        if not validator.problems(broken):
            failures.append(f"self-test: a broken {kind} passed")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes-version", default="1.33")
    parser.add_argument("files", nargs="+")
    options = parser.parse_args()
    validator = Validator(options.kubernetes_version)
    documents = []
    for path in options.files:
        with open(path) as f:
            for index, document in enumerate(yaml.safe_load_all(f)):
                if document:
                    name = document.get("metadata", {}).get("name", "?")
                    documents.append((f"{path}#{index} {document.get('kind')}/{name}", document))
    failures = self_test(validator, documents)
    for label, document in documents:
        for problem in validator.problems(document):
            failures.append(f"{label}: {problem}")
    failures += axon_rules(documents)
    kserve_version = importlib.metadata.version("kserve")
    checked = ", ".join(sorted({d.get("kind", "?") for _, d in documents}))
    if validator.unknown:
        print(f"note: KServe SDK types without a schema, accepted as any value: {', '.join(sorted(validator.unknown))}")
    if failures:
        print("\n".join(failures))
        print(f"manifests-check: {len(failures)} problem(s)")
        sys.exit(1)
    print(f"manifests-check: {len(documents)} documents valid ({checked}) against Kubernetes {options.kubernetes_version} "
          f"(kubernetes-validate {kubernetes_validate.__version__}, strict) and KServe {kserve_version} (SDK models, strict)")


if __name__ == "__main__":
    main()
