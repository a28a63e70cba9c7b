#!/usr/bin/env python3
"""PyTorch's side of the CPU benchmarks: the same cases as ember_bench.cpp, one JSON object
per line, {"case": name, "ms": median milliseconds}. Threads: $OMP_NUM_THREADS (default 2)."""
import json
import os
import statistics
import sys
import time

import torch


def median_ms(fn, setup=lambda: None, warmup=3, repeats=15):
    for _ in range(warmup):
        setup()
        fn()
    times = []
    for _ in range(repeats):
        setup()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def report(name, ms):
    print(json.dumps({"case": name, "ms": ms}), flush=True)


def bench_matmul():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    report("matmul_f32_1024", median_ms(lambda: a @ b))


def bench_elementwise():
    n = 16 << 20
    a, b, c = torch.randn(n), torch.randn(n), torch.randn(n)
    report("mul_add_16M", median_ms(lambda: a * b + c))


def bench_softmax():
    x = torch.randn(4096, 4096)
    report("softmax_4096x4096", median_ms(lambda: torch.softmax(x, -1)))


def bench_op_overhead():
    x, w = torch.randn(16, requires_grad=True), torch.randn(16, requires_grad=True)

    def step():
        x.grad = None
        w.grad = None
        h = x
        for _ in range(250):
            h = torch.tanh(h * w + x) - x
        h.sum().backward()
    report("tiny_ops_1000_fwd_bwd", median_ms(step))


def bench_mlp():
    def param(i, o):
        return (torch.randn(i, o) / i ** 0.5).requires_grad_()
    w1, w2, w3 = param(784, 512), param(512, 512), param(512, 10)
    b1, b2, b3 = (torch.zeros(n, requires_grad=True) for n in (512, 512, 10))
    params = [w1, w2, w3, b1, b2, b3]
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))

    def forward():
        h = torch.relu(x @ w1 + b1)
        h = torch.relu(h @ w2 + b2)
        return torch.nn.functional.cross_entropy(h @ w3 + b3, y)

    def step():
        for p in params:
            p.grad = None
        forward().backward()
    report("mlp_forward_backward", median_ms(step, warmup=5, repeats=31))
    holder = {}

    def zero_and_forward():
        for p in params:
            p.grad = None
        holder["loss"] = forward()
    report("mlp_backward_only", median_ms(lambda: holder["loss"].backward(), zero_and_forward, 5, 31))


def bench_cnn():
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def step():
        adam.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        adam.step()
    report("cnn_train_step_adam", median_ms(step, warmup=3, repeats=21))


def causal_fft_conv(u, k, d):
    """The usual PyTorch Hyena long convolution: rfft with n = 2L, then truncate."""
    n = u.shape[-1]
    y = torch.fft.irfft(torch.fft.rfft(u, n=2 * n) * torch.fft.rfft(k, n=2 * n), n=2 * n)[..., :n]
    return y + u * d.unsqueeze(-1)


def bench_fft_conv():
    u = torch.randn(1, 256, 4096, requires_grad=True)
    k = torch.randn(256, 4096, requires_grad=True)
    d = torch.randn(256, requires_grad=True)
    g = torch.randn(1, 256, 4096)
    report("fft_conv_fwd_bwd_256x4096", median_ms(lambda: causal_fft_conv(u, k, d).backward(g), warmup=3, repeats=21))


class Block(torch.nn.Module):
    """ember's TransformerBlock: pre-norm, x + attn(ln1(x)), then x + mlp(ln2(x)), exact GELU."""

    def __init__(self, d, heads):
        super().__init__()
        nn = torch.nn
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if hasattr(torch.nn.functional, "scaled_dot_product_attention"):
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0 (Debian's 1.13): the same attention, written out with a causal mask
            scores = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
            mask = torch.ones(t, t, dtype=torch.bool).triu(1)
            y = torch.softmax(scores.masked_fill(mask, float("-inf")), -1) @ v
        return self.out_proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharGPT(torch.nn.Module):
    """ember's nn::GPT: token + learned position embeddings, blocks, final layer norm, tied head."""

    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.tok_emb = torch.nn.Embedding(vocab, d)
        self.pos_emb = torch.nn.Parameter(torch.randn(context, d) * 0.02)
        self.blocks = torch.nn.Sequential(*(Block(d, heads) for _ in range(layers)))
        self.ln_f = torch.nn.LayerNorm(d)

    def forward(self, tokens):
        h = self.tok_emb(tokens) + self.pos_emb[: tokens.shape[1]]
        return self.ln_f(self.blocks(h)) @ self.tok_emb.weight.t()


def bench_char_transformer():
    vocab, length, batch = 65, 256, 16
    model = CharGPT(vocab, length, 128, 4, 4)
    adamw = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    tokens = torch.randint(0, vocab, (batch, length))
    targets = torch.randint(0, vocab, (batch * length,))

    def step():
        adamw.zero_grad()
        torch.nn.functional.cross_entropy(model(tokens).view(-1, vocab), targets).backward()
        adamw.step()
    ms = median_ms(step, warmup=3, repeats=15)
    print(json.dumps({"case": "char_transformer_train_step", "ms": ms,
                      "params": sum(p.numel() for p in model.parameters())}), flush=True)


CASES = {"matmul": bench_matmul, "elementwise": bench_elementwise, "softmax": bench_softmax, "mlp": bench_mlp,
         "cnn": bench_cnn, "fft_conv": bench_fft_conv, "char_transformer": bench_char_transformer,
         "op_overhead": bench_op_overhead}

if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(0)
    wanted = sys.argv[1:] or list(CASES)
    for name in CASES:
        if name in wanted:
            CASES[name]()
