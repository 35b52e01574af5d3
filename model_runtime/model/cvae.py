"""The SignAvatar network: a transformer conditional VAE over 6D rotation sequences (ACTOR-style).

Shapes: B clips, T frames (padded), F = 6 x joints features (normalised), E = semantic
embedding width, D = ``d_model`` (also the latent width).

Encoder: each frame -> Linear(F, D - C); the semantic embedding -> 3-layer MLP -> C values
concatenated to every frame (C = ``cond_dim``). Two distribution tokens, mu and Sigma, are
linear maps of the same projected embedding and are put in front of the frames;
sinusoidal positions are added to all T + 2 tokens; a TransformerEncoder runs with a
padding mask; mu is read from token 0, log Sigma from token 1 (clamped to
[-``logvar_clamp``, ``logvar_clamp``]). Read straight from the encoder (ACTOR), both are outputs of
its final LayerNorm, whose per-dimension gain and offset they share: log Sigma's mean over dimensions
is pinned to mu's offset, so a trained model keeps wide posteriors (std ~0.7 per dimension against a
spread of ~1 of the means across clips, v3) and its decoder, trained on that noise, averages motions.
``posterior_heads`` adds a Linear(D, D) for each, initialised to the identity (a warm start from a
model without them begins with exactly its function). Curriculum-masked frames have their frame part
replaced by a learned vector (``mask_token="learned"``) or zeros before the concatenation.

Decoder (non-autoregressive): memory = z + bias(embedding) with bias a 3-layer MLP: one
token (ACTOR), or with ``memory_tokens`` = K > 1 a Linear(D, K x D) map of it into K tokens
(plus a learned embedding per token), so that cross-attention can pick a different part of
the latent for each frame; queries = T sinusoidal time encodings; TransformerDecoder
(padding mask, no causal mask); Linear(D, F) head.

Temporal latent (``latent_tokens`` = K > 1, L = ``latent_dim``): the clip's duration is split into K
equal parts (frame t of a clip of n frames is in part floor(K t / n)); the encoder's frame outputs are
averaged per part and a Linear(D, 2L) gives each part's mu and log Sigma, so z is (B, K x L), part k
first. The decoder's memory is K tokens, Linear(L, D) of each part's latent + bias(embedding) + the
embedding of the part's centre phase (k + 1/2) / K; the queries get the embedding of their own phase
t / (n - 1) added to the time encodings. One phase embedding (Fourier features of the phase ->
Linear) serves both, so a frame finds the parts around it. Any decoded length plays the whole sign:
the parts follow the phase, not the frame number. A single latent must summarise the whole clip,
and a decoder reading it through positional queries alone averages out fast, repeated or late
movements; a latent per part keeps them where they happen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .config import NetConfig


def sinusoidal_table(length: int, dim: int) -> torch.Tensor:
    """(length, dim) sine/cosine position encodings (Vaswani et al. 2017)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return table


PHASE_FREQUENCIES = 8


def phase_features(phase: torch.Tensor) -> torch.Tensor:
    """(...,) phases in [0, 1] -> (..., 2 x PHASE_FREQUENCIES) sines and cosines of pi f phase, f = 1..8."""
    f = torch.arange(1, PHASE_FREQUENCIES + 1, dtype=phase.dtype, device=phase.device)
    a = torch.pi * phase[..., None] * f
    return torch.cat([torch.sin(a), torch.cos(a)], dim=-1)


def frame_phases(valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """valid (B, T) bool (a prefix of each row) -> phase t / (n - 1) of every frame (B, T) in [0, 1], and
    the clip lengths n (B,)."""
    n = valid.sum(1)
    t = torch.arange(valid.shape[1], device=valid.device, dtype=torch.float32)
    return (t[None] / (n[:, None] - 1).clamp(min=1)).clamp(max=1.0), n


def frame_parts(valid: torch.Tensor, parts: int) -> torch.Tensor:
    """valid (B, T) bool (a prefix of each row) -> (B, T, parts) one-hot of the part floor(parts t / n) each
    frame of a clip of n frames falls in; zero rows at padding."""
    n = valid.sum(1, keepdim=True).clamp(min=1)
    t = torch.arange(valid.shape[1], device=valid.device)[None]
    part = (t * parts // n).clamp(max=parts - 1)
    return nn.functional.one_hot(part, parts) * valid[..., None]


def mlp3(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                         nn.Linear(hidden, d_out))


@dataclass
class CVAEOutput:
    recon: torch.Tensor  # (B, T, F) normalised features of every frame
    mu: torch.Tensor  # (B, Z), Z = cfg.z_dim (D with one latent)
    logvar: torch.Tensor  # (B, Z)
    z: torch.Tensor  # (B, Z)


class SignCVAE(nn.Module):
    def __init__(self, feat_dim: int, sem_dim: int, max_frames: int, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        self.feat_dim = feat_dim
        self.sem_dim = sem_dim
        self.max_frames = max_frames
        D, C = cfg.d_model, cfg.cond_dim
        self.frame_in = nn.Linear(feat_dim, D - C)
        self.cond_enc = mlp3(sem_dim, cfg.mlp_hidden, C)
        self.mu_token = nn.Linear(C, D)
        self.sigma_token = nn.Linear(C, D)
        if cfg.mask_token == "learned":
            self.mask_vector = nn.Parameter(torch.randn(D - C) * 0.02)
        else:
            self.register_buffer("mask_vector", torch.zeros(D - C), persistent=False)
        enc_layer = nn.TransformerEncoderLayer(D, cfg.heads, cfg.ff_dim, cfg.dropout, activation="gelu",
                                               batch_first=True)
        self.encoder = nn.TransformerEncoder(enc_layer, cfg.enc_layers, enable_nested_tensor=False)
        self.cond_bias = mlp3(sem_dim, cfg.mlp_hidden, D)
        dec_layer = nn.TransformerDecoderLayer(D, cfg.heads, cfg.ff_dim, cfg.dropout, activation="gelu",
                                               batch_first=True)
        self.decoder = nn.TransformerDecoder(dec_layer, cfg.dec_layers)
        if cfg.memory_tokens > 1:
            self.memory_map = nn.Linear(D, cfg.memory_tokens * D)
            self.memory_embed = nn.Parameter(torch.randn(cfg.memory_tokens, D) * 0.02)
        if cfg.posterior_heads:
            self.mu_head, self.logvar_head = nn.Linear(D, D), nn.Linear(D, D)
            for head in (self.mu_head, self.logvar_head):
                nn.init.eye_(head.weight)
                nn.init.zeros_(head.bias)
        self.parts = cfg.latent_tokens
        if self.parts > 1:
            L = cfg.latent_dim or D
            self.latent_dim = L
            self.part_stats = nn.Linear(D, 2 * L)
            self.latent_up = nn.Linear(L, D)
            self.phase_in = nn.Linear(2 * PHASE_FREQUENCIES, D)
        self.head = nn.Linear(D, feat_dim)
        self.register_buffer("positions", sinusoidal_table(max_frames + 2, D), persistent=False)

    def encode(self, x: torch.Tensor, valid: torch.Tensor, emb: torch.Tensor,
               frame_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, F) normalised, valid (B, T) bool, emb (B, E), frame_mask (B, T) bool -> mu, logvar (B, Z)."""
        B, T, _ = x.shape
        h = self.frame_in(x)
        if frame_mask is not None:
            h = torch.where(frame_mask[..., None], self.mask_vector.to(h.dtype).expand_as(h), h)
        c = self.cond_enc(emb)  # (B, C)
        frames = torch.cat([h, c[:, None, :].expand(B, T, c.shape[-1])], dim=-1)
        tokens = torch.cat([self.mu_token(c)[:, None], self.sigma_token(c)[:, None], frames], dim=1)
        tokens = tokens + self.positions[: T + 2]
        pad = torch.cat([torch.zeros(B, 2, dtype=torch.bool, device=x.device), ~valid], dim=1)
        out = self.encoder(tokens, src_key_padding_mask=pad)
        clamp = self.cfg.logvar_clamp
        if self.parts == 1:
            mu, logvar = out[:, 0], out[:, 1]
            if self.cfg.posterior_heads:
                mu, logvar = self.mu_head(mu), self.logvar_head(logvar)
            return mu, logvar.clamp(-clamp, clamp)
        w = frame_parts(valid, self.parts).to(out.dtype)  # (B, T, K)
        pooled = torch.einsum("btk,btd->bkd", w / w.sum(1, keepdim=True).clamp(min=1), out[:, 2:])
        mu, logvar = self.part_stats(pooled).chunk(2, dim=-1)
        return mu.flatten(1), logvar.clamp(-clamp, clamp).flatten(1)

    def decode(self, z: torch.Tensor, emb: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """z (B, Z), emb (B, E), valid (B, T) bool -> (B, T, F) normalised features."""
        B, T = valid.shape
        queries = self.positions[:T].expand(B, T, -1)
        if self.parts > 1:
            centres = (torch.arange(self.parts, device=z.device, dtype=torch.float32) + 0.5) / self.parts
            memory = (self.latent_up(z.view(B, self.parts, self.latent_dim)) + self.cond_bias(emb)[:, None]
                      + self.phase_in(phase_features(centres)))
            queries = queries + self.phase_in(phase_features(frame_phases(valid)[0]))
        else:
            memory = (z + self.cond_bias(emb))[:, None, :]
            if self.cfg.memory_tokens > 1:
                memory = self.memory_map(memory).view(B, self.cfg.memory_tokens, -1) + self.memory_embed
        out = self.decoder(queries, memory, tgt_key_padding_mask=~valid)
        return self.head(out)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, emb: torch.Tensor,
                frame_mask: torch.Tensor | None = None, generator: torch.Generator | None = None) -> CVAEOutput:
        mu, logvar = self.encode(x, valid, emb, frame_mask)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        return CVAEOutput(recon=self.decode(z, emb, valid), mu=mu, logvar=logvar, z=z)
