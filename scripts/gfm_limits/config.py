"""Config checks, before any rule sees the config.

`check_keys` walks the config against config/schema.yaml before Snakemake's
validate() runs and names any unknown key by its full dotted path, with the
closest known key as a suggestion (jsonschema alone says only "Additional
properties are not allowed"). `replace_inherited_sources` runs first: Snakemake
merges a --configfile into config/config.yaml key by key, so a source given a
new `url` would keep the default's `urls` and `sha256` (and stop on a checksum
mismatch); the keys that only describe the old files are dropped instead. `check_numbers` names the NaN, infinite or
16.0-for-an-integer values that validate() lets through. `check_consistency`
checks what the schema cannot express: conditions name existing sources,
k-mers only on DNA, sequence length within the position embeddings, DNA
windows no shorter than the shortest kept piece.
"""

from __future__ import annotations

import difflib
import math

from gfm_limits.files import InputError
from gfm_limits.plan import condition_model, source_kind, source_sha256, source_urls


def check_config(config: dict, schema_path, overrides: list | None = None) -> None:
    """Unknown keys (named, with a suggestion), then schema validation that fills in
    defaults (snakemake.utils.validate), then cross-key checks. Called by the Snakefile.
    overrides: what Snakemake merged over config/config.yaml, in order (the --configfile
    paths, then the --config dict), for replace_inherited_sources."""
    import yaml
    from snakemake.utils import validate

    with open(schema_path) as handle:
        schema = yaml.safe_load(handle)
    if overrides:
        replace_inherited_sources(config, [_load_layer(layer) for layer in overrides])
    check_keys(config, schema)
    validate(config, str(schema_path))
    check_numbers(config, schema)
    check_consistency(config)


def _load_layer(layer) -> dict:
    """A config layer: a dict as given (--config), or a config file's contents."""
    if isinstance(layer, dict):
        return layer
    if hasattr(layer, "items"):  # --config arrives as an immutable mapping
        return dict(layer.items())
    from snakemake.common.configfile import load_configfile

    return load_configfile(str(layer)) or {}


def replace_inherited_sources(config: dict, layers: list[dict]) -> list[str]:
    """Where a later layer gives a source `url` or `urls`, drop what the merge kept of the files
    it replaces: the other of url/urls, and `sha256` unless that layer (or a later one) gives it
    again. Each dropped checksum is warned about, naming the source. Returns the warnings."""
    from snakemake.logging import logger

    warnings = []
    for name, entry in (config.get("sources") or {}).items():
        if not isinstance(entry, dict):
            continue
        last_files, files_keys, last_sha = -1, set(), -1
        for i, layer in enumerate(layers):
            given = ((layer or {}).get("sources") or {}).get(name)
            if not isinstance(given, dict):
                continue
            if "url" in given or "urls" in given:
                last_files, files_keys = i, {key for key in ("url", "urls") if key in given}
            if "sha256" in given:
                last_sha = i
        if last_files < 0:
            continue
        for key in {"url", "urls"} - files_keys:
            entry.pop(key, None)
        if last_sha < last_files and entry.get("sha256") is not None:
            del entry["sha256"]
            warnings.append(f"sources.{name}: {' and '.join(sorted(files_keys))} given by a later config without "
                            f"sha256, so the earlier config's sha256 is dropped; the new files are not checked "
                            f"against a checksum (a download's is recorded in fetch.lock_file the first time)")
    for message in warnings:
        logger.warning(f"config: {message}")
    return warnings


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if ref is None:
        return node
    target = schema
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return target


def check_keys(config: dict, schema: dict, node: dict | None = None, prefix: str = "") -> None:
    """Raise InputError naming the first config key the schema does not know."""
    node = _resolve(schema, schema if node is None else node)
    if not isinstance(config, dict) or node.get("type") != "object":
        return
    known = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for key, value in config.items():
        path = f"{prefix}{key}"
        if key in known:
            check_keys(value, schema, known[key], f"{path}.")
        elif isinstance(extra, dict):
            if not isinstance(key, str):  # YAML reads `1:` as an int; names become paths and patterns
                raise InputError(f"config: the name '{path}' is not a string; quote it")
            check_keys(value, schema, extra, f"{path}.")
        elif extra is False:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            raise InputError(f"config: unknown key '{path}'{hint}")


def check_numbers(value, schema: dict, node: dict | None = None, path: str = "") -> None:
    """Raise InputError naming a NaN or infinite number, which jsonschema lets through every
    bound (comparisons with NaN are false), or a float such as 16.0 where the schema wants an
    integer (JSON Schema counts it as one; the Python code downstream does not). Run after
    validate(), which bounds the nesting."""
    node = _resolve(schema, schema if node is None else node)
    if isinstance(value, float) and (not math.isfinite(value) or node.get("type") == "integer"):
        wanted = "an integer" if math.isfinite(value) else "a finite number"
        raise InputError(f"config: {path}: {value!r} is not {wanted}")
    if isinstance(value, dict):
        extra = node.get("additionalProperties")
        for key, sub in value.items():
            sub_node = node.get("properties", {}).get(key, extra if isinstance(extra, dict) else {})
            check_numbers(sub, schema, sub_node, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_numbers(item, schema, node.get("items", {}), f"{path}[{index}]")


def _check_source(name: str, entry: dict) -> None:
    where = f"config: sources.{name}"
    if ("url" in entry) == ("urls" in entry):
        raise InputError(f"{where}: give exactly one of url and urls (a --configfile extends config/config.yaml "
                         f"key by key, so a source that replaces a default one's url with urls needs a new name)")
    if len(source_sha256(entry)) != len(source_urls(entry)):
        raise InputError(f"{where}.sha256: {len(source_sha256(entry))} checksums for {len(source_urls(entry))} files")
    if entry["format"] == "fasta" and source_kind(entry) != "dna":
        raise InputError(f"{where}: a fasta source is dna")
    if entry.get("join") and entry["format"] == "parquet":
        raise InputError(f"{where}: parquet files cannot be joined byte for byte")


def check_consistency(config: dict) -> None:
    """Cross-key checks; raise InputError naming the key."""
    sources = config["sources"]
    for name, entry in sources.items():
        _check_source(name, entry)
    for name, cond in config["conditions"].items():
        if cond["source"] not in sources:
            raise InputError(f"config: conditions.{name}.source: no source named {cond['source']!r} "
                             f"(sources: {', '.join(sources)})")
        if ("tokenizer" in cond) == ("imported" in cond):
            raise InputError(f"config: conditions.{name}: give exactly one of tokenizer (train here) and "
                             f"imported (analyse models trained elsewhere)")
        for section in ("model", "train"):
            if "imported" in cond and section in cond:
                raise InputError(f"config: conditions.{name}: {section} changes apply to training; imported models "
                                 f"bring their own model")
        if cond.get("tokenizer") == "kmer" and source_kind(sources[cond["source"]]) != "dna":
            raise InputError(f"config: conditions.{name}: the kmer tokenizer needs a dna source")
        if "kmer_k" in cond and cond.get("tokenizer") != "kmer":
            raise InputError(f"config: conditions.{name}.kmer_k: only a condition with tokenizer kmer has a k")
        if cond.get("train", {}).get("reverse_complement_augmentation") and cond.get("tokenizer") != "kmer":
            raise InputError(f"config: conditions.{name}.train.reverse_complement_augmentation: the token-level "
                             f"reverse complement needs the kmer tokenizer")
    for name in config["conditions"]:
        _check_model(config, name)
    if config["corpus"]["dna_min_window"] > config["corpus"]["dna_window"]:
        raise InputError(f"config: corpus.dna_min_window ({config['corpus']['dna_min_window']}) exceeds "
                         f"corpus.dna_window ({config['corpus']['dna_window']}): every DNA window would be dropped")
    stats = config["stats"]
    if stats["summary_k"] not in stats["top_k"]:
        raise InputError(f"config: stats.summary_k ({stats['summary_k']}) must be one of stats.top_k {stats['top_k']}")
    if not any(math.isclose(p, stats["summary_top_p"]) for p in stats["top_p"]):
        raise InputError(f"config: stats.summary_top_p ({stats['summary_top_p']}) must be one of stats.top_p "
                         f"{stats['top_p']}")
    if config["train"]["batch_size"] % config["train"]["grad_accum"]:
        raise InputError(f"config: train.batch_size ({config['train']['batch_size']}) must be a multiple of "
                         f"train.grad_accum ({config['train']['grad_accum']})")


def _check_model(config: dict, condition: str) -> None:
    model = condition_model(config, condition)
    where = "model" if "model" not in config["conditions"][condition] else f"conditions.{condition}.model"
    if config["encode"]["seq_len"] > model["max_position"]:
        raise InputError(f"config: encode.seq_len ({config['encode']['seq_len']}) exceeds "
                         f"{where}.max_position ({model['max_position']})")
    if model["hidden_size"] % max(model["num_heads"], 1):
        raise InputError(f"config: {where}.num_heads must divide {where}.hidden_size")


def schema_table(schema: dict) -> str:
    """A markdown table of every config key: dotted name, default, description."""
    rows = ["| key | default | description |", "|---|---|---|"]

    def walk(node: dict, prefix: str) -> None:
        for key, sub in _resolve(schema, node).get("properties", {}).items():
            sub = _resolve(schema, sub)
            default = sub.get("default")
            shown = "" if default is None or isinstance(default, dict) else f"`{default}`"
            text = " ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
            rows.append(f"| `{prefix}{key}` | {shown} | {text} |")
            walk(sub, f"{prefix}{key}.")
            extra = sub.get("additionalProperties")
            if isinstance(extra, dict):
                walk(extra, f"{prefix}{key}.<name>.")

    walk(schema, "")
    return "\n".join(rows) + "\n"
