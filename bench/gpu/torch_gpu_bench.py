#!/usr/bin/env python3
"""PyTorch's side of the GPU benchmarks: the cases of ember_gpu_bench.cpp, one JSON object per
line, {"case": name, "ms": median milliseconds, ...}, or {"case": name, "error": message} when a
case fails. A case that has no ember twin of its own names the ember case it is compared with
in "peer" (torch.compile against ember's eager step). usage: torch_gpu_bench.py [--case NAME]..."""
import argparse
import json
import math
import statistics
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F


def report(name, **fields):
    print(json.dumps({"case": name, **fields}), flush=True)


def mib(nbytes):
    return nbytes / (1 << 20)


def gpu_median_ms(fn, warmup, max_repeats, budget_s=4.0):
    """ember_gpu_bench.cpp's rule: a probe run sizes the repeats, then warm-up, then the median
    of runs with the device drained before and after each."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    probe_ms = (time.perf_counter() - t0) * 1000
    repeats = min(max(int(budget_s * 1000 / max(probe_ms, 1e-3)), 3), max_repeats)
    for _ in range(max(warmup - 1, 0)):
        fn()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


DEVICE = "cuda"

# ---- 1. GPT-2 124M training step: ember's nn::GPT with GPT-2 small's options ----------------
# Pre-norm blocks x + out_proj(attn(ln1(x))), x + mlp(ln2(x)); one fused qkv Linear(d, 3d) read
# as [B, T, 3, H, dh]; MLP d -> 4d -> d with GELU (tanh); biases everywhere; learned positions;
# final LayerNorm; the LM head is the token embedding's transpose (tied). GPT-2's init as
# ember's init_transformer_: N(0, 0.02), out_proj layers N(0, 0.02 / sqrt(2 layers)), biases 0.

VOCAB, CONTEXT, BATCH, D_MODEL, LAYERS, HEADS = 50304, 1024, 8, 768, 12, 12


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.attn_out_proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp_in_proj = nn.Linear(d, 4 * d)
        self.mlp_out_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        x = x + self.attn_out_proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp_out_proj(F.gelu(self.mlp_in_proj(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, D_MODEL)
        self.pos_emb = nn.Parameter(torch.empty(CONTEXT, D_MODEL))
        self.blocks = nn.ModuleList(Block(D_MODEL, HEADS) for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(D_MODEL)
        residual_std = 0.02 / math.sqrt(2 * LAYERS)
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, residual_std if name.endswith("out_proj") else 0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0, 0.02)
        nn.init.normal_(self.pos_emb, 0, 0.02)

    def forward(self, tokens):
        h = self.tok_emb(tokens) + self.pos_emb[: tokens.shape[1]]
        for block in self.blocks:
            h = block(h)
        return F.linear(self.ln_f(h), self.tok_emb.weight)


def adamw(params):
    try:  # the fused kernel, as ember's one fused pass per parameter
        return torch.optim.AdamW(params, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)


def bench_gpt2(name, bf16, compile_model=False, peer=None):
    set_tf32(True)
    model = GPT().to(DEVICE)
    params = sum(p.numel() for p in model.parameters())
    opt = adamw(model.parameters())
    tokens = torch.randint(0, VOCAB, (BATCH, CONTEXT), device=DEVICE)
    targets = torch.randint(0, VOCAB, (BATCH * CONTEXT,), device=DEVICE)
    forward = torch.compile(model) if compile_model else model
    holder = {}

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(forward(tokens).view(-1, VOCAB), targets)
        loss.backward()
        opt.step()
        holder["loss"] = loss

    t0 = time.perf_counter()
    step()  # creates the optimizer state (and compiles): outside the peak's reset
    torch.cuda.synchronize()
    first_s = time.perf_counter() - t0
    torch.cuda.reset_peak_memory_stats()
    ms = gpu_median_ms(step, 3, 15)
    fields = dict(ms=ms, peak_mib=mib(torch.cuda.max_memory_allocated()), params=params,
                  tokens_per_s=BATCH * CONTEXT / (ms / 1000), loss=holder["loss"].item(), first_step_s=first_s)
    if peer:
        fields["peer"] = peer
    report(name, **fields)


# ---- 2. causal attention forward + backward ---------------------------------------------------

HEAD_COUNT, HEAD_DIM, ATTENTION_TOKENS = 16, 64, 16384


def bench_attention(name, length):
    batch = max(1, ATTENTION_TOKENS // length)
    shape = (batch, HEAD_COUNT, length, HEAD_DIM)
    q, k, v = (torch.randn(shape, device=DEVICE, dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    grad = torch.randn(shape, device=DEVICE, dtype=torch.bfloat16)

    def step():
        q.grad = k.grad = v.grad = None
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(grad)

    step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    ms = gpu_median_ms(step, 3, 30)
    flops = 3.5 * 2.0 * batch * HEAD_COUNT * length * length * HEAD_DIM
    report(name, ms=ms, tflops=flops / (ms / 1000) / 1e12, batch=batch,
           peak_mib=mib(torch.cuda.max_memory_allocated()))


# ---- 3. Hyena operator forward + backward: ember's nn::HyenaOperator (nn/layers/hyena.cpp) ----

HYENA_WIDTH = 768


class Sin(nn.Module):
    def __init__(self, dim, w=1.0):
        super().__init__()
        self.freq = nn.Parameter(torch.full((dim,), w))

    def forward(self, x):
        return torch.sin(self.freq * x)


class HyenaFilter(nn.Module):
    """Implicit long filters: an FFN (Linear(emb_dim, width), Sin, [Linear(width, width), Sin] x
    depth, Linear(width, channels, no bias), one Sin shared by all layers) over positional
    features z = [t, cos(f w), -sin(f w)], times the exponential decay exp(-t |delta_c|)."""

    def __init__(self, channels, seq_len, width=64, depth=2, emb_dim=3, w=1.0, fast_decay_pct=0.3,
                 slow_decay_pct=1.5, target=1e-2, shift=0.0):
        super().__init__()
        bands = (emb_dim - 1) // 2
        t = torch.linspace(0, 1, seq_len)[:, None]
        angle = 2 * math.pi * torch.arange(seq_len, dtype=torch.float64)[:, None] / seq_len
        f = torch.linspace(1e-4, bands - 1, bands, dtype=torch.float64)[None]
        z = torch.cat([t.double(), torch.cos(f * angle), -torch.sin(f * angle)], dim=-1)
        self.z = nn.Parameter(z.float())
        self.register_buffer("t", t)
        act = Sin(width, w)
        layers = [nn.Linear(emb_dim, width), act]
        for _ in range(depth):
            layers += [nn.Linear(width, width), act]
        layers.append(nn.Linear(width, channels, bias=False))
        self.implicit_filter = nn.Sequential(*layers)
        max_decay, min_decay = math.log(target) / fast_decay_pct, math.log(target) / slow_decay_pct
        self.register_buffer("deltas", torch.linspace(min_decay, max_decay, channels))
        self.shift = shift
        self.bias = nn.Parameter(torch.randn(channels))

    def filter(self, length):
        h = self.implicit_filter(self.z[:length])
        return h * (torch.exp(-(self.t[:length] * self.deltas.abs())) + self.shift)


def fft_conv(u, k, d):
    """Causal long convolution through rfft of length 2L, plus the skip term D u."""
    n = u.shape[-1]
    y = torch.fft.irfft(torch.fft.rfft(u, n=2 * n) * torch.fft.rfft(k, n=2 * n), n=2 * n)[..., :n]
    return y + u * d[:, None]


class HyenaOperator(nn.Module):
    """u [B, L, d] -> in_proj to (N + 1) d -> causal depthwise conv3 -> x_1 .. x_N, v;
    v = x_n * fft_conv(v, h_n, D_n) for n = 1 .. N; out_proj(v)."""

    def __init__(self, d, l_max, order=2):
        super().__init__()
        self.d, self.order = d, order
        inner = d * (order + 1)
        self.in_proj = nn.Linear(d, inner)
        self.out_proj = nn.Linear(d, d)
        self.short_filter = nn.Conv1d(inner, inner, 3, padding=2, groups=inner)
        self.filter_fn = HyenaFilter(d * order, l_max)

    def forward(self, u):
        length, d = u.shape[1], self.d
        z = self.short_filter(self.in_proj(u).transpose(1, 2))[..., :length]
        blocks = z.split(d, dim=1)
        h = self.filter_fn.filter(length).transpose(0, 1)
        bias = self.filter_fn.bias
        v = blocks[-1]
        for n in range(self.order):
            v = blocks[n] * fft_conv(v, h[n * d:(n + 1) * d], bias[n * d:(n + 1) * d])
        return self.out_proj(v.transpose(1, 2))


def bench_hyena(name, length):
    set_tf32(True)
    op = HyenaOperator(HYENA_WIDTH, length).to(DEVICE)
    u = torch.randn(1, length, HYENA_WIDTH, device=DEVICE, requires_grad=True)
    grad = torch.randn(1, length, HYENA_WIDTH, device=DEVICE)

    def step():
        op.zero_grad(set_to_none=True)
        u.grad = None
        op(u).backward(grad)

    step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    ms = gpu_median_ms(step, 3, 30)
    report(name, ms=ms, peak_mib=mib(torch.cuda.max_memory_allocated()),
           params=sum(p.numel() for p in op.parameters()))


# ---- 4. GEMM 8192^3 ---------------------------------------------------------------------------

GEMM = 8192


def bench_gemm(name, dtype):
    set_tf32(dtype == torch.float32)
    a, b = (torch.randn(GEMM, GEMM, device=DEVICE, dtype=dtype) for _ in range(2))
    ms = gpu_median_ms(lambda: torch.matmul(a, b), 5, 50)
    report(name, ms=ms, tflops=2.0 * GEMM ** 3 / (ms / 1000) / 1e12)


CASES = {
    "gpt2_tf32": lambda: bench_gpt2("gpt2_tf32", bf16=False),
    "gpt2_bf16": lambda: bench_gpt2("gpt2_bf16", bf16=True),
    "attn_T1024": lambda: bench_attention("attn_T1024", 1024),
    "attn_T4096": lambda: bench_attention("attn_T4096", 4096),
    "attn_T16384": lambda: bench_attention("attn_T16384", 16384),
    "hyena_T4096": lambda: bench_hyena("hyena_T4096", 4096),
    "hyena_T16384": lambda: bench_hyena("hyena_T16384", 16384),
    "hyena_T65536": lambda: bench_hyena("hyena_T65536", 65536),
    "gemm_bf16_8192": lambda: bench_gemm("gemm_bf16_8192", torch.bfloat16),
    "gemm_tf32_8192": lambda: bench_gemm("gemm_tf32_8192", torch.float32),
    # Last: compilation takes the longest and is the likeliest to fail or stall.
    "gpt2_bf16_compile": lambda: bench_gpt2("gpt2_bf16_compile", bf16=True, compile_model=True, peer="gpt2_bf16"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", default=[],
                        help="run the cases whose names contain NAME (repeatable; default all): " + " ".join(CASES))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        report("setup", error="torch.cuda.is_available() is False")
        return 1
    for name, run in CASES.items():
        if args.case and not any(f in name for f in args.case):
            continue
        torch.manual_seed(0)
        try:
            run()
        except Exception as e:  # one failing case never stops the others
            report(name, error=f"{type(e).__name__}: {e}"[:2000], where=traceback.format_exc(limit=-3)[-1500:])
        finally:
            set_tf32(False)
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
