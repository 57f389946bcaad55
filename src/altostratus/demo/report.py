"""The demo's report: each step and what it did, the experiment's numbers, and where to look afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from altostratus.demo.story import DemoResult


def result_dict(result: DemoResult, data_dir: Path) -> dict[str, Any]:
    """The result as JSON-ready data."""
    return {
        "completed": result.completed,
        "seconds": round(result.seconds, 1),
        "data": {
            "source": result.data.source,
            "synthetic": result.data.synthetic,
            "train_rows": result.data.train_rows,
        },
        "data_dir": str(data_dir),
        "bucket": result.bucket,
        "function": result.function,
        "endpoint": result.endpoint,
        "model_group": result.group,
        "traffic": {
            "requests": result.requests,
            "failed": result.failed_requests,
            "served": result.served,
            "outcomes": result.outcomes,
        },
        "prod_version": result.prod_version,
        "endpoint_weights": result.endpoint_weights,
        "pipeline": result.spec_text,
        "run": result.run,
    }


def format_report(result: DemoResult, data_dir: Path) -> str:
    """The report `alto demo` prints."""
    run = result.run
    steps = {s["step"]: s for s in run.get("steps", [])}
    lines = [
        "",
        f"alto demo: pipeline run {run.get('run_id')} {run.get('state')} in {result.seconds:.0f} s",
        f"  data: {result.data.train_rows} training rows from {result.data.source}",
    ]
    if result.data.synthetic:
        lines.append("  NOTE: UCI Adult was not found; the story ran on generated Adult-like rows.")
    lines.append("")
    for name, step in steps.items():
        lines.append(f"[{step['state']}] {name}: {step.get('message', '')}".rstrip())
        lines += ["    " + line for line in _step_details(name, step.get("lineage", {}), result)]
    lines += ["", *_traffic_lines(result, steps.get("promote", {}).get("lineage", {}))]
    lines += ["", *_browse_lines(result, run, data_dir)]
    return "\n".join(lines)


def _step_details(name: str, lineage: dict[str, Any], result: DemoResult) -> list[str]:
    if name == "source":
        return [
            f"s3://{result.bucket}/{o['key']} ({o['size']} bytes, etag {o['etag']})" for o in lineage.get("objects", [])
        ]
    if name == "preprocess":
        out = [f"{result.function} on {key}: request {rid}" for key, rid in lineage.get("invocations", {}).items()]
        out += [f"clean: s3://{result.bucket}/{o['key']}" for o in lineage.get("outputs", [])]
        if "data" in lineage:
            out.append(f"run snapshot: s3://{result.bucket}/{lineage['data']['key']}")
        return out
    if name == "train":
        out = [f"datasources: {', '.join(f'{k} {v}' for k, v in lineage.get('datasources', {}).items())}"]
        for candidate, model in lineage.get("models", {}).items():
            metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(model.get("metrics", {}).items()))
            out.append(f"{candidate} ({model['algorithm']}): model {model['model_id']}: {metrics}")
        return out
    if name == "gate":
        ranking = ", ".join(" ".join(f"{k}={v}" for k, v in r.items()) for r in lineage.get("ranking", []))
        out = [
            f"ranking: {ranking}",
            f"registered {result.group} v{lineage.get('version')}: {lineage.get('version_arn')}",
        ]
        out.append(f"gate {lineage.get('gate_status')}, stage {lineage.get('stage')}: {lineage.get('decision')}")
        out += [f"  check: {check}" for check in _gate_checks(lineage.get("gate", {}))]
        return out
    if name == "deploy":
        variants = lineage.get("variants", {})
        out = [f"endpoint {lineage.get('endpoint')} (config {lineage.get('config')})"]
        for variant, info in variants.items():
            role = "champion" if variant == lineage.get("champion") else "challenger"
            out.append(f"{variant} ({role}): {info['weight']:g}% of traffic, model {info['model']}")
        return out
    if name == "promote":
        return [
            f"winner {lineage.get('winner')}: {lineage.get('why')}",
            f"{result.group} prod is v{lineage.get('prod')}",
        ]
    return []


def _gate_checks(report: dict[str, Any]) -> list[str]:
    checks = report.get("checks") if isinstance(report, dict) else None
    if not isinstance(checks, list):
        return [f"{k}: {v}" for k, v in report.items() if not isinstance(v, dict | list)] if report else []
    return [" ".join(f"{k}={v}" for k, v in c.items() if not isinstance(v, dict | list)) for c in checks]


def _traffic_lines(result: DemoResult, promote: dict[str, Any]) -> list[str]:
    served = ", ".join(f"{variant} {count}" for variant, count in sorted(result.served.items()))
    lines = [
        f"traffic: {result.requests} requests ({result.failed_requests} failed); served by {served or 'nobody'}",
        f"outcomes fed back: {result.outcomes}",
    ]
    for variant in promote.get("experiment", {}).get("variants", []):
        online, versus = variant.get("online"), variant.get("versus_champion")
        text = f"  {variant['variant']}: {variant['requests']} requests"
        if online:
            low, high = online["interval"]
            text += f", online {online['metric']} {online['value']:.4f} [{low:.4f}, {high:.4f}] on {online['outcomes']}"
        if versus:
            text += f"; vs champion {versus['difference']:+.4f}, p={versus['p_value']:.4g} ({versus['test']})"
        lines.append(text)
    weights = ", ".join(f"{v} {w:g}%" for v, w in result.endpoint_weights.items())
    lines.append(f"final: {result.group} prod v{result.prod_version}; endpoint {result.endpoint} weights: {weights}")
    return lines


def _browse_lines(result: DemoResult, run: dict[str, Any], data_dir: Path) -> list[str]:
    d = f"--data-dir {data_dir}"
    return [
        "Everything stays in the data dir. To browse it:",
        f"  alto pipelines show {run.get('run_id')} {d}",
        f"  alto serve {d}        (then, in another shell, with the same {d}:)",
        f"  alto lake ls s3://{result.bucket}/        (raw/, clean/, pipelines/)",
        f"  alto registry versions {result.group}",
        f"  alto endpoints describe {result.endpoint}   /   alto endpoints stats {result.endpoint}",
    ]
