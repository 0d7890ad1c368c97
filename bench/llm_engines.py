"""The LLM runtimes for the bundled SmolLM2-135M-Instruct, side by side on the prompts Macaw sends.

    .venv/bin/python bench/llm_engines.py [--runs 3] [--entries 3]

1. Records the prompts the real write stage sends for a few ../shared/journals entries (read
   and summary modes), through the numpy runner.
2. Replays them, greedy, with repetition penalty 1.15 and each prompt's own max_tokens, in a
   fresh process per runtime per run: transformers (torch, the reference), the numpy runner
   (`llm.native`) and CTranslate2 (float32, and int8 for comparison), one thread each.
3. Prints load time, peak memory, prompt tokens/s, decode tokens/s (median and range over the
   runs) and how many replies are token-for-token transformers' own.

No stop strings: a reply whose greedy tokens match up to max_tokens matches under any stop rule.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
ENTRIES = ["2024-10-14-normalization.txt", "2024-11-19-gestation.txt", "end-of-batch.txt", "2017-11-16-chinese.md"]
PENALTY = 1.15
RUNTIMES = ("transformers", "native", "ctranslate2", "ctranslate2-int8")


def record(entries: int, path: Path) -> None:
    """The write stage's real prompts, recorded on their way to the numpy runner."""
    from llmfixtures import context, journal_document, journal_path

    from macaw import engines
    from macaw.stages import write as write_stage

    inner = engines.create("llm", {"engine": "native", "max_tokens": 120, "repetition_penalty": PENALTY})
    calls: list[dict] = []

    class Recorder:
        capabilities = frozenset({"stop"})
        model_name, context_tokens = inner.model_name, inner.context_tokens

        def generate(self, messages, *, max_tokens, seed, stop=None):
            calls.append({"messages": messages, "max_tokens": max_tokens})
            return inner.generate(messages, max_tokens=max_tokens, seed=seed, stop=stop)

        def count_tokens(self, text):
            return inner.count_tokens(text)

        def fingerprint(self):
            return inner.fingerprint()

    engines.register("llm.record", lambda settings: Recorder())
    with tempfile.TemporaryDirectory() as tmp:
        for name in ENTRIES[:entries]:
            for mode in ("read", "summary"):
                doc, source = journal_document(journal_path(name))
                ctx = context(Path(tmp) / f"{name}-{mode}", journal__mode=mode)
                ctx.config.llm.engine = "record"
                write_stage.run(ctx, doc, source)
    path.write_text(json.dumps(calls, indent=1))
    print(f"recorded {len(calls)} prompts from {entries} entries", file=sys.stderr)


def _folder() -> Path:
    from macaw import models
    from macaw.engines import llm_local

    return llm_local.converted(models.bundled_llm())


def replay(runtime: str, prompts_path: Path) -> dict:
    """One runtime, loaded in this process: load time, then every prompt with per-token times."""
    import numpy as np

    from macaw.engines import llama_native

    calls = json.loads(prompts_path.read_text())
    folder = _folder()
    tok = llama_native.Tokenizer(folder)
    prompts = [tok.encode(tok.apply_chat_template(c["messages"]), add_special_tokens=False) for c in calls]
    started = time.perf_counter()
    if runtime == "transformers":
        import torch
        from transformers import AutoModelForCausalLM, LogitsProcessorList, RepetitionPenaltyLogitsProcessor, StoppingCriteria

        torch.set_num_threads(1)
        model = AutoModelForCausalLM.from_pretrained(str(folder)).eval()

        def run(ids, limit, stamps):
            class Stamp(StoppingCriteria):
                def __call__(self, input_ids, scores, **kw):
                    stamps.append(time.perf_counter())
                    return torch.zeros(input_ids.shape[0], dtype=torch.bool)

            with torch.inference_mode():
                out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                     max_new_tokens=limit, do_sample=False, pad_token_id=tok.eos_token_id,
                                     logits_processor=LogitsProcessorList([RepetitionPenaltyLogitsProcessor(PENALTY, prompt_ignore_length=len(ids))]),
                                     stopping_criteria=[Stamp()])
            return out[0, len(ids):].tolist()
    elif runtime == "native":
        model = llama_native.Llama(folder, "cpu", tok.eos_token_id)

        def run(ids, limit, stamps):
            def stop(out):
                stamps.append(time.perf_counter())
                return False
            return model.generate(ids, max_new_tokens=limit, eos=model.eos, repetition_penalty=PENALTY, stop=stop)
    else:
        from macaw.engines import llm_ctranslate2

        compute = "int8" if runtime.endswith("int8") else "float32"
        from macaw import models

        key = models.file_digest(models.bundled_llm())[:16]  # the engine's own cache folder
        model = llm_ctranslate2.load_generator(llm_ctranslate2.converted(folder, compute, key), compute, threads=1)
        eos = sorted(llama_native._eos_ids(folder, json.loads((folder / "config.json").read_text()), tok.eos_token_id))

        def run(ids, limit, stamps):
            out = []
            for step in model.generate_tokens([tok.id_to_token(i) for i in ids], max_length=limit, sampling_topk=1,
                                              repetition_penalty=PENALTY, end_token=eos):
                stamps.append(time.perf_counter())
                out.append(step.token_id)
            return out
    load_s = time.perf_counter() - started
    cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    wall_before = time.perf_counter()
    results = []
    for ids, call in zip(prompts, calls):
        stamps: list[float] = []
        begun = time.perf_counter()
        out = run(ids, call["max_tokens"], stamps)
        results.append({"prompt_tokens": len(ids), "ids": out, "first_s": stamps[0] - begun if stamps else 0.0,
                        "decode_s": (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0, "steps": max(0, len(stamps) - 1)})
    # CPU seconds as well as wall seconds: on a shared machine the wall clock counts the others'
    # load too, while one thread's CPU time is about what an idle machine would take.
    cpu_s = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"runtime": runtime, "load_s": load_s, "peak_mb": peak_mb, "results": results, "numpy": np.__version__,
            "generate_cpu_s": cpu_s, "generate_wall_s": time.perf_counter() - wall_before}


def summary(runs: list[dict], reference: list[list[int]] | None) -> dict:
    def figures(run):
        prompt = sum(r["prompt_tokens"] for r in run["results"]) / sum(r["first_s"] for r in run["results"])
        decode = sum(r["steps"] for r in run["results"]) / max(1e-9, sum(r["decode_s"] for r in run["results"]))
        return run["load_s"], run["peak_mb"], prompt, decode

    def figures_all(run):
        return (*figures(run), run["generate_wall_s"], run["generate_cpu_s"])

    rows = list(zip(*(figures_all(r) for r in runs)))
    names = ("load_s", "peak_mb", "prompt_tok_s", "decode_tok_s", "generate_wall_s", "generate_cpu_s")
    out = {name: (statistics.median(v), min(v), max(v)) for name, v in zip(names, rows)}
    if reference is not None:
        same = [[r["ids"] == ref for r, ref in zip(run["results"], reference)] for run in runs]
        out["identical"] = (min(sum(s) for s in same), len(reference))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=3)
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--prompts", type=Path, default=Path(tempfile.gettempdir()) / "macaw-llm-prompts.json")
    parser.add_argument("--replay", default="")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--reference", type=Path, default=None, help="an earlier --json whose transformers replies to compare with")
    args = parser.parse_args()
    if args.replay:
        print(json.dumps(replay(args.replay, args.prompts)))
        return
    if not args.prompts.is_file():
        record(args.entries, args.prompts)
    runtimes = args.runtimes.split(",")
    runs: dict[str, list[dict]] = {r: [] for r in runtimes}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    for _ in range(args.runs):
        for runtime in runtimes:  # interleaved, so a change in the machine's load falls on all of them
            out = subprocess.run([sys.executable, __file__, "--replay", runtime, "--prompts", str(args.prompts)],
                                 capture_output=True, text=True, env=env)
            if out.returncode != 0:
                raise SystemExit(f"{runtime}: {out.stderr[-2000:]}")
            runs[runtime].append(json.loads(out.stdout.strip().splitlines()[-1]))
    reference = [r["ids"] for r in runs["transformers"][0]["results"]] if "transformers" in runs else None
    if reference is None and args.reference:
        reference = [r["ids"] for r in json.loads(args.reference.read_text())["runs"]["transformers"][0]["results"]]
    report = {}
    for runtime, rs in runs.items():
        report[runtime] = s = summary(rs, reference)
        line = "  ".join(f"{k} {v[0]:.2f} [{v[1]:.2f}-{v[2]:.2f}]" for k, v in s.items() if k != "identical")
        same = f"  identical {s['identical'][0]}/{s['identical'][1]}" if "identical" in s else ""
        print(f"{runtime:18} {line}{same}")
    if args.json:
        args.json.write_text(json.dumps({"summary": report, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
