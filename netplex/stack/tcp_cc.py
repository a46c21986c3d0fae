"""TCP congestion control: Reno (RFC 5681) and CUBIC (RFC 9438), behind `TcpSocket.cc`.

The socket calls `cong_avoid` for every ACK that advances snd_una outside
recovery, `ssthresh` when it detects a loss (three duplicate ACKs or a
retransmission timeout) and `on_loss` / `on_rto` to let the algorithm reset
its epoch. Windows are counted in segments, as tcp_sock.snd_cwnd is.
Slow start stops at ssthresh and leaves the rest of the ACK to congestion
avoidance, as tcp_slow_start does; with SACK, `acked` counts only what the ACK
newly delivered (data SACKed earlier is not counted again).
`net.ipv4.tcp_congestion_control` chooses the algorithm for new sockets
(Linux's default: cubic).
"""
from __future__ import annotations

from typing import Any

__all__ = ["Reno", "Cubic", "CC_ALGORITHMS", "new_cc", "slow_start"]

NSEC_PER_SEC = 1_000_000_000


def slow_start(sk: Any, acked: int) -> int:
    """tcp_slow_start: grow by the ACKed segments up to ssthresh; returns those left over."""
    cwnd = min(sk.cwnd + acked, sk.ssthresh)
    acked -= cwnd - sk.cwnd
    sk.cwnd = cwnd
    return acked


class Reno:
    """tcp_reno_cong_avoid: slow start below ssthresh, then one segment per window."""

    name = "reno"

    def __init__(self) -> None:
        self.cnt = 0   # ACKed segments counted toward the next increase (snd_cwnd_cnt)

    def cong_avoid(self, sk: Any, acked: int, now: int) -> None:
        if sk.cwnd < sk.ssthresh:
            acked = slow_start(sk, acked)
            if not acked:
                return
        self.cnt += acked
        if self.cnt >= sk.cwnd:                   # tcp_cong_avoid_ai
            self.cnt -= sk.cwnd
            sk.cwnd += 1

    def ssthresh(self, sk: Any) -> int:
        return max(sk.cwnd >> 1, 2)

    def on_loss(self, sk: Any, now: int) -> None:
        self.cnt = 0

    def on_rto(self, sk: Any, now: int) -> None:
        self.cnt = 0


class Cubic(Reno):
    """tcp_cubic: W(t) = C (t - K)^3 + W_max, beta 0.7, fast convergence, TCP-friendly region."""

    name = "cubic"
    C = 0.4
    BETA = 0.7

    def __init__(self) -> None:
        super().__init__()
        self.w_max = 0.0
        self.last_w_max = 0.0
        self.epoch = -1
        self.k = 0.0
        self.origin = 0.0
        self.w_est = 0.0
        self.ack_cnt = 0

    def cong_avoid(self, sk: Any, acked: int, now: int) -> None:
        cwnd = sk.cwnd
        if cwnd < sk.ssthresh:
            acked = slow_start(sk, acked)
            if not acked:
                return
            cwnd = sk.cwnd
        epoch = self.epoch
        if epoch < 0:
            self.epoch = epoch = now
            self.ack_cnt = acked
            self.w_est = float(cwnd)
            if self.w_max <= cwnd:
                self.k = 0.0
                self.origin = float(cwnd)
            else:
                self.k = ((self.w_max - cwnd) / self.C) ** (1 / 3)
                self.origin = self.w_max
        else:
            self.ack_cnt += acked
        rtt = sk.srtt or 100_000_000
        t = (now - epoch + rtt) / NSEC_PER_SEC
        target = self.origin + self.C * (t - self.k) ** 3
        # TCP-friendly estimate (RFC 9438 4.3)
        self.w_est = w_est = self.w_est + _FRIENDLY * acked / (cwnd if cwnd > 1 else 1)
        if w_est > target:
            target = w_est
        if target > cwnd:
            cnt = cwnd / (target - cwnd)
        else:
            cnt = 100.0 * cwnd
        self.cnt += acked
        if self.cnt >= cnt:
            self.cnt = 0
            sk.cwnd = cwnd + 1

    def ssthresh(self, sk: Any) -> int:
        self.epoch = -1
        w = float(sk.cwnd)
        if w < self.last_w_max:
            self.last_w_max = w
            self.w_max = w * (1 + self.BETA) / 2     # fast convergence
        else:
            self.last_w_max = w
            self.w_max = w
        return max(int(w * self.BETA), 2)

    def on_rto(self, sk: Any, now: int) -> None:
        super().on_rto(sk, now)
        self.epoch = -1
        self.w_max = self.last_w_max = 0.0


# the TCP-friendly region's growth per ACKed segment, 3 (1 - beta) / (1 + beta): the same float
# (the same operations in the same order) as computed on every ACK
_FRIENDLY = 3 * (1 - Cubic.BETA) / (1 + Cubic.BETA)

CC_ALGORITHMS: dict[str, type[Reno]] = {"reno": Reno, "cubic": Cubic}


def new_cc(ns: Any) -> Reno:
    """The algorithm net.ipv4.tcp_congestion_control names (cubic when unknown)."""
    name = "cubic"
    try:
        name = str(ns.sysctl.values.get("net.ipv4.tcp_congestion_control", "cubic"))
    except AttributeError:
        pass
    return CC_ALGORITHMS.get(name, Cubic)()
