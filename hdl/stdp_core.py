"""RTL of network 3's on-chip STDP learning core (bit-exact with ``quantize.stdp``).

One image presentation (with its retries) runs on chip: the host writes the image's pixel
codes and pulses ``start``; the core rate-codes the pixels with the input generator, runs the
time-multiplexed excitatory layer (leak, input spikes, refractory counters, hard WTA), and, in
learning mode, the STDP engine on the winner's column, the column-sum / reciprocal-ROM scale
refresh and homeostasis; ``done`` rises with the attempt count and the cycle count. Every
operation and every LFSR draw follows the order of ``quantize/stdp.py``'s module notes (seed
eqs. 8, 9 and 12; REFERENCES.md section 5); :mod:`quantize.stdp_core` gives the memory layout.

Every memory has a synchronous read (its address presented one cycle before the word is
used) and every long computation has its own register stage, so no register-to-register path
crosses more than one adder, comparator or wide multiplexer chain. Per attempt (``A_CLEAR``,
``max(Q, G) + 2`` cycles) the last-spike memory and the counts are cleared and the pixel codes
become thresholds ``p q_r`` (pixel read, product register, threshold-memory write).

Per step (``t``):

1. ``IN_ROW``/``IN_POP``: the input generator's ``Q = ceil(n_in / L)`` cycles; lane ``l`` of
   cycle ``q`` is pixel ``q L + l``, which spikes when its word is below the prefetched
   threshold ``p q_r``; the spiking pixels' last-spike step is written (lane-masked) and
   their indices are serialised into a spike list (one cycle per spike, the generator
   waiting).
2. ``GRP_INIT``/``ACC_LEAK``, then per group of ``NL`` neurons ``ACC_ADD``/``ACC_END`` (the
   end of one group is the load of the next): the stored membranes (already leaked, see below; 0 after a layer spike or at the start); ``S +
   1`` add cycles, the spike list read two cycles ahead, the device row one cycle ahead, the
   product ``code * scale_j`` registered before its add; then the saturation at ``vmax``
   (adds are >= 0, so clamping once equals clamping each add), the refractory counters and
   each lane's margin ``v - (v_th + theta)`` (one cycle later) into the winner tree. Two
   cycles after ``ACC_END`` leak the membrane (shift-add terms, rounded, then subtracted) for
   the next step and write it back.
   The winner tree is pipelined (one register level per pairwise pick, ``bitlen(NL - 1)``
   levels; ties keep the lowest lane), its last stage compares with the step's best so far,
   group after group; ``TREE`` waits for the last group to drain.
3. ``SE_RD``/``SE_WR``: the layer's winner is logged; on a spike: count, refractory counter,
   (learning) ``theta += theta_plus`` saturating, then ``ST_ISSUE``: one input row of the
   winner's column per cycle through four stages (S1 weight-lane and last-spike-lane selects,
   S2 age ``min(t - last, sat)`` (``sat`` if the input has not spiked), S3 LUT read and the
   STDP generator's word of that lane (binary: ``pot`` for an AP device, ``dep`` for a P
   device) or the DW notch table, S4 comparison, write-back and column-sum update);
   ``ST_DRAIN`` empties the stages; ``SC1``-``SC3`` refresh the winner's scale from its
   column sum through the reciprocal ROM (address and shift, read, rounding).

LT-ST (seed section V.2, two binary arrays; ``quantize.stdp_core.CoreLayout.pack_states``):
a synapse's lane field holds both devices, LT in the high bit, which with the significance
codes (2, 1) is its code (the group pass adds ``field * scale`` as for one array); the
STDP engine makes one pass over the winner's column per array (LT first, its own LUTs at
``Cat(age, array)``), writing back the field with the other array's bit kept; the negative
window sweeps each row once per array.

Negative window (seed eq. 9, dt < 0; built only when some ``p_minus > 0``): in learning mode,
once the attempt has had a post spike, ``NG_RD``/``NG_ROW`` take each entry of the step's
spike list (before the group pass, as ``quantize.stdp`` orders it) and sweep its row column
after column: ``NG_A`` reads the state word, the column sum and the ``neg`` LUT at the age
since the column's latest post spike (a register per neuron, cleared per attempt), ``NG_B``
compares with the STDP generator's word of the column's lane (binary: a P device switches
to AP below the LUT value; DW: the LUT's notches down, clipped) and writes back; a switched
device's column takes ``NS1``-``NS3`` (column-sum write, the reciprocal-ROM scale refresh of
``SC1``-``SC3``). The generator advances after every ``L`` columns and after the last one.

Per attempt the counts are cleared; an image is shown again with the next rate code while the
layer fired fewer than ``min_spikes`` times (at most ``max_retries`` more). After a learning
image the theta-decay counter advances and wraps every ``theta_interval`` images with ``theta
-= rshift_round(theta, theta_shift)`` (``DECAY``, read and write one cycle apart).

Cycles: exactly ``quantize.stdp_core.CoreLayout.image_cycles`` (per step ``Q + S + G (S + 2)
+ levels + 6``, ``S`` input spikes of the step, ``G`` neuron groups; per learning post spike
``arrays n_in + 7``; per attempt ``max(Q, G) + 3``; per swept row of the negative window
``2 + 2 N arrays``, per device it switches 3). Neuron lanes trade cycles for adders: each lane
has a ``KB x SB`` product (an AND gate for binary devices), a membrane adder, the leak's
shift-adds and a margin comparator.

ECP5-85F (``spintwin synth stdp --target ecp5-85f``: 16 neurons in 4 lanes, 28 generator
lanes; Yosys + nextpnr router2 through ``boards.synth``, seed 1): routed fmax 65.8 MHz, 9,217
LUT (13,449 TRELLIS_COMB with 638 LUT-RAM slices), 10,911 FF, 28 DSP (the input lanes' ``p
q_r`` products), 10 DP16KD; critical path 15.2 ns: the ``dep`` LUT's block-RAM output
(5.6 ns clock-to-out) -> comparison with the generator word -> column-sum update. 39,100
cycles per MNIST training image (mean of 100: ~2,300 input spikes, 15.4 post spikes, one
attempt): ~1,680 training images/s at fmax. Before this pipelining the same core routed at
26.1 MHz (11,897 LUT, 7,554 FF, 29 DSP, 4 DP16KD; critical path 38.3 ns: ``busy`` -> the
comb-read theta memory -> margin -> winner tree -> the step's best) and took 49,000 cycles
per image (~530 images/s). ``quantize.stdp`` trains the same network at ~1,770 images/s of
one CPU core's process time (a loaded 2-core machine: 120-880 images/s wall clock), so the
core is on par with one CPU core, not ahead: the generator rows (``Q`` a step), the group
pass (``G (S + 2)``) and the STDP rows (``n_in`` a post spike) are what to widen next. The default network (225 neurons in 15 lanes): 49.6 MHz routed,
18,722 LUT, 15,925 FF, 28 DSP, 22 DP16KD, ~74,000 cycles per image (was ~84,300; ~670
images/s); its critical path (20.2 ns) is the FSM's choice of the theta memory's write
address fanning out over that 480-bit-wide LUT-RAM: registering that write (as the last-spike
memory's) is the next step.

Host port (flat, for ``tb.harness_top.clocked_top``): ``wr_en/wr_sel/wr_addr/wr_data`` write
a pixel code, a device-state word, a theta, a column sum or a scale (``quantize.stdp_core``
``WR_*``; only while idle); ``rd_sel/rd_addr`` select a word that appears on ``rd_data`` two
clock edges later (pipelined: one read per cycle) (``RD_*``: state words, theta, the last attempt's counts, the winner log
``winner + 1`` per step of every attempt in order (0: none), column sums, scales).
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from hdl.lfsr import LfsrBank
from quantize.fixed import unsigned_width
from quantize.stdp_core import (RD_COLSUM, RD_COUNT, RD_SCALE, RD_THETA, RD_WEIGHT, RD_WINNER,
                                WR_COLSUM, WR_PIX, WR_SCALE, WR_THETA, WR_WEIGHT, CoreLayout)

__all__ = ["StdpCore"]


def _rshift_round(x, e: int):
    """``(x + 2**(e-1)) >> e`` for a constant e >= 1."""
    return (x + (1 << (e - 1))) >> e


class StdpCore(wiring.Component):
    """The STDP learning core for one :class:`quantize.stdp_core.CoreLayout`.

    Parameters
    ----------
    layout : CoreLayout

    Members
    -------
    start : In(1)      pulse (while idle): present the loaded image
    learn : In(1)      sampled with ``start``: STDP and homeostasis on
    busy, done : Out(1)  ``done`` is high from the end of a presentation to the next start
    attempts : Out     attempts used by the last image (1..max_retries + 1)
    spikes : Out       layer spikes of the last attempt
    cycles : Out(32)   clock cycles of the last image (start to done)
    wr_en, wr_sel, wr_addr, wr_data : In       host writes (idle only)
    rd_sel, rd_addr : In, rd_data : Out         host readback (two edges of latency)
    """

    def __init__(self, layout: CoreLayout):
        self.layout = lo = layout
        c = lo.config
        self.n_in = lo.n_inputs
        nl, kb = lo.neuron_lanes, lo.state_bits
        self.nbits = lo.group_bits + lo.lane_bits         # neuron address width
        self.vbits = c.membrane_bits - 1                   # v >= 0: unsigned storage
        self.tbits = c.theta_bits
        self.sbits = unsigned_width(lo.scale_max)
        self.kwbits = unsigned_width(lo.colsum_max)
        self.stepbits = unsigned_width(lo.steps)
        self.logbits = unsigned_width(lo.neurons)
        self.log_depth = lo.attempts_max * lo.steps
        addr_w = max(self.n_in.bit_length() + lo.group_bits, self.nbits, (self.log_depth - 1).bit_length(),
                     (lo.rows - 1).bit_length() + lo.pix_lane_bits, 1)
        data_w = max(nl * kb, self.tbits, self.kwbits, self.sbits, c.input_bits, self.logbits, unsigned_width(lo.steps))
        self.addr_w, self.data_w = addr_w, data_w
        self.tree_levels = lo.tree_levels
        super().__init__({
            "start": In(1), "learn": In(1), "busy": Out(1), "done": Out(1),
            "attempts": Out(unsigned_width(lo.attempts_max)), "spikes": Out(unsigned_width(lo.steps)), "cycles": Out(32),
            "wr_en": In(1), "wr_sel": In(3), "wr_addr": In(addr_w), "wr_data": In(data_w),
            "rd_sel": In(3), "rd_addr": In(addr_w), "rd_data": Out(data_w),
        })

    def elaborate(self, platform):  # noqa: C901 - one FSM, kept in one place on purpose
        lo = self.layout
        c, gcfg = lo.config, lo.config.golden
        n_in, N, nl, G, L, Q = self.n_in, lo.neurons, lo.neuron_lanes, lo.groups, lo.lanes, lo.rows
        kb, GB, LB = lo.state_bits, lo.group_bits, lo.lane_bits
        vb, tb, sb, kwb, stb = self.vbits, self.tbits, self.sbits, self.kwbits, self.stepbits
        tabs = c.tables()
        stoch = bool(gcfg.stochastic)
        sat = c.age_sat
        vmax = 2 ** (c.membrane_bits - 1) - 1
        tmax = 2 ** c.theta_bits - 1
        NARR = lo.arrays
        dkb = lo.device_bits
        sigs = [int(x) for x in c.sig_codes]
        top = gcfg.levels - 1
        ref_steps = int(round(gcfg.t_ref / gcfg.dt))
        rb = unsigned_width(ref_steps)
        cb = unsigned_width(lo.steps)
        inc_max = top * sum(sigs) * lo.scale_max
        accb = unsigned_width(vmax + n_in * inc_max)
        mb = max(accb, tb + 1, unsigned_width(c.vth_code)) + 2          # margin (signed)
        pb = unsigned_width(int(2 ** c.input_bits - 1) * int(c.rate_codes.max()))   # p q_r
        shift_sh, interval = c.theta_decay
        m = Module()

        # -------------------------------------------------------------------- memories
        # Every read port is synchronous (the address is presented one cycle before the word
        # is used), so each memory is a BRAM or a LUT-RAM with its output register.
        def mem(name, width, depth, init=()):
            mm = memory.Memory(shape=unsigned(width), depth=depth, init=list(init))
            m.submodules[name] = mm
            return mm

        pix_m = mem("pix", L * c.input_bits, Q)
        thr_m = mem("thresholds", L * pb, Q)                # p q_r of the attempt, per lane
        last_m = mem("last", L * (stb + 1), Q)              # per lane: step | valid << stb
        spk_m = mem("spikes", unsigned_width(n_in - 1), n_in)
        w_m = mem("weights", nl * kb, n_in << GB)
        v_m = mem("membrane", nl * vb, G)                   # leaked membranes (see E2 below)
        r_m = mem("refractory", nl * rb, G)
        th_m = mem("theta", nl * tb, G)
        sc_m = mem("scale", nl * sb, G)
        ct_m = mem("counts", nl * cb, G)
        cs_m = mem("colsum", kwb, 1 << (GB + LB))
        log_m = mem("winners", self.logbits, self.log_depth)
        # per-array LUTs, array a at addresses a (sat + 1) + age = Cat(age, a) (sat + 1 = 2**age_bits)
        pot_m = mem("pot", unsigned_width(int(tabs["pot"].max())), NARR * (sat + 1), tabs["pot"].ravel().tolist())
        dep_m = mem("dep", unsigned_width(int(tabs["dep"].max())), NARR * (sat + 1), tabs["dep"].ravel().tolist())
        dwd = tabs["dwd"][0]
        dwb = unsigned_width(int(abs(dwd).max())) + 1
        dwd_m = mem("dwd", dwb, sat + 1, [int(x) & ((1 << dwb) - 1) for x in dwd])
        recip = tabs["recip"]
        rc_m = mem("recip", unsigned_width(int(recip.max())), len(recip), recip.tolist())
        neg_en = lo.negative_window
        if neg_en:
            negt = tabs["neg"]
            neg_m = mem("neg", unsigned_width(int(negt.max())), NARR * (sat + 1), negt.ravel().tolist())
            neg_r = neg_m.read_port()

        pix_w, pix_r = pix_m.write_port(granularity=c.input_bits), pix_m.read_port()
        thr_w, thr_r = thr_m.write_port(), thr_m.read_port()
        last_w, last_r = last_m.write_port(granularity=stb + 1), last_m.read_port()
        spk_w, spk_r = spk_m.write_port(), spk_m.read_port()
        w_w, w_r = w_m.write_port(granularity=kb), w_m.read_port()
        v_w, v_r = v_m.write_port(), v_m.read_port()
        r_w, r_r = r_m.write_port(granularity=rb), r_m.read_port()
        th_w, th_r = th_m.write_port(granularity=tb), th_m.read_port()
        sc_w, sc_r = sc_m.write_port(granularity=sb), sc_m.read_port()
        ct_w, ct_r = ct_m.write_port(granularity=cb), ct_m.read_port()
        cs_w, cs_r = cs_m.write_port(), cs_m.read_port()
        log_w, log_r = log_m.write_port(), log_m.read_port()
        pot_r, dep_r, dwd_r, rc_r = pot_m.read_port(), dep_m.read_port(), dwd_m.read_port(), rc_m.read_port()

        def lane(sigl, i, w):
            return sigl.word_select(i, w)

        def field(x, a):
            """Device state of array ``a`` (constant or signal) in lane field ``x``."""
            if NARR == 1:
                return x
            return (x >> (dkb * (NARR - 1 - a))) & ((1 << dkb) - 1) if isinstance(a, int) else \
                Array([field(x, b) for b in range(NARR)])[a]

        def with_field(x, a, v):
            """Lane field ``x`` with array ``a``'s device state replaced by ``v``."""
            if NARR == 1:
                return v
            return Array([Cat(*[(v if b == a_ else field(x, b))[:dkb] for b in reversed(range(NARR))])
                          for a_ in range(NARR)])[a]

        def sig_of(a):
            """Significance code of array ``a`` (a signal; the constant for one array)."""
            return sigs[0] if NARR == 1 else Array([Const(x, unsigned_width(max(sigs))) for x in sigs])[a]
        # -------------------------------------------------------------------- generators
        in_banks = [LfsrBank(cfg) for cfg in c.lfsr("input")]
        st_banks = [LfsrBank(cfg) for cfg in c.lfsr("stdp")] if stoch else []
        for b, bank in enumerate(in_banks):
            m.submodules[f"in_lfsr{b}"] = bank
        for b, bank in enumerate(st_banks):
            m.submodules[f"stdp_lfsr{b}"] = bank
        in_en, st_en = Signal(), Signal()
        for bank in in_banks:
            m.d.comb += bank.en.eq(in_en)
        for bank in st_banks:
            m.d.comb += bank.en.eq(st_en)

        def word(banks, l):
            w = banks[0].bits[l]
            for bank in banks[1:]:
                w = w ^ bank.bits[l]
            return w

        in_words = [word(in_banks, l) for l in range(L)]
        st_words = Array([word(st_banks, l) for l in range(L)]) if stoch else None

        # -------------------------------------------------------------------- registers
        learn = Signal()
        r = Signal(range(lo.attempts_max + 1))
        t = Signal(range(lo.steps + 1))
        q = Signal(range(Q + 1))
        q_base = Signal(range(Q * L + 1))          # q L
        ql = Signal(range(L + 1))                  # lane within the STDP row
        i_row = Signal(range(n_in + 1))            # input row of the STDP engine
        g = Signal(range(G + 1))
        g_base = Signal(range(G * nl + 1))         # g NL
        k = Signal(range(n_in + 1))
        nsp = Signal(range(n_in + 1))
        pend = Signal(L)
        fresh = Signal()                           # first step of an attempt: refr treated as 0
        zero = Signal()                            # membranes reset (layer spike or attempt start)
        spk = Signal(range(lo.steps + 1))
        best_ok = Signal()
        best_m = Signal(signed(mb))
        best_g = Signal(range(max(G, 2)))
        best_l = Signal(range(max(nl, 2)))
        best_j = Signal(range(N + 1))
        ptr = Signal(range(self.log_depth + 1))
        clr = Signal(range(max(Q, G) + 3))
        colreg = Signal(signed(kwb + 2))
        img_ctr = Signal(range(interval + 1))
        drain = Signal(range(max(self.tree_levels, 3) + 2))
        cycles = Signal(32)
        acc = [Signal(accb, name=f"acc{l}") for l in range(nl)]
        done = Signal()
        if neg_en:
            # negative window: each neuron's latest post step (| valid << stb) in this attempt
            posted = Signal()
            lpost = Array([Signal(stb + 1, name=f"lpost{j}") for j in range(N)])
            nk = Signal(range(n_in + 1))               # spike-list index of the swept row
            ni = Signal(range(n_in + 1))               # its input row
            nj = Signal(range(N + 1))                  # column
            ngr = Signal(range(max(G, 2)))             # its group and lane
            nln = Signal(range(max(nl, 2)))
            nql = Signal(range(L + 1))                 # its STDP-generator lane
            nsa = Signal(range(max(NARR, 2))) if NARR > 1 else Const(0, 1)   # the array swept
            n_adv = Signal()                           # advance the STDP generator (row sweep)
        rate = Array([Const(int(x)) for x in c.rate_codes])
        qr = Signal(unsigned_width(int(c.rate_codes.max())))
        m.d.sync += qr.eq(rate[Mux(r < lo.attempts_max, r, 0)])     # the attempt's rate code
        m.d.comb += [self.done.eq(done), self.cycles.eq(cycles), self.spikes.eq(spk)]

        busy = Signal()
        m.d.comb += self.busy.eq(busy)
        with m.If(busy):
            m.d.sync += cycles.eq(cycles + 1)

        # -------------------------------------------------------------------- host port
        hw = self.wr_en & ~busy
        hsel, ha, hd = self.wr_sel, self.wr_addr, self.wr_data
        h_lane = ha[:LB] if LB else Const(0, 1)
        h_group = ha[LB:LB + GB] if GB else Const(0, 1)
        with m.If(hw):
            with m.Switch(hsel):
                with m.Case(WR_PIX):
                    pl = ha[:lo.pix_lane_bits] if lo.pix_lane_bits else Const(0, 1)
                    m.d.comb += [pix_w.addr.eq(ha >> lo.pix_lane_bits), pix_w.en.eq(1 << pl),
                                 pix_w.data.eq(hd[:c.input_bits].replicate(L))]
                with m.Case(WR_WEIGHT):
                    m.d.comb += [w_w.addr.eq(ha), w_w.en.eq((1 << nl) - 1), w_w.data.eq(hd)]
                with m.Case(WR_THETA):
                    m.d.comb += [th_w.addr.eq(h_group), th_w.en.eq(1 << h_lane), th_w.data.eq(hd[:tb].replicate(nl))]
                with m.Case(WR_COLSUM):
                    m.d.comb += [cs_w.addr.eq(ha), cs_w.en.eq(1), cs_w.data.eq(hd)]
                with m.Case(WR_SCALE):
                    m.d.comb += [sc_w.addr.eq(h_group), sc_w.en.eq(1 << h_lane), sc_w.data.eq(hd[:sb].replicate(nl))]
        # readback: the read ports take the host address while idle; the word (and its lane)
        # is selected after the port's register and registered once more: two edges
        rsel, ra = self.rd_sel, self.rd_addr
        r_lane = ra[:LB] if LB else Const(0, 1)
        r_group = ra[LB:LB + GB] if GB else Const(0, 1)
        rsel_q, rsel_q2, rlane_q = Signal(3), Signal(3), Signal(max(LB, 1))
        m.d.sync += [rsel_q.eq(rsel), rsel_q2.eq(rsel_q), rlane_q.eq(r_lane)]
        with m.If(~busy):
            m.d.comb += [w_r.addr.eq(ra), th_r.addr.eq(r_group), ct_r.addr.eq(r_group), log_r.addr.eq(ra),
                         cs_r.addr.eq(ra), sc_r.addr.eq(r_group)]
        # a word read while busy is 0 (as before the ports were synchronous), so the output
        # is defined before the host's first read
        rd_ok = Signal()
        m.d.sync += rd_ok.eq(~busy)
        rd_now = Signal(self.data_w)
        with m.Switch(Mux(rd_ok, rsel_q, RD_WEIGHT)):
            with m.Case(RD_THETA):
                m.d.comb += rd_now.eq(lane(th_r.data, rlane_q, tb))
            with m.Case(RD_COUNT):
                m.d.comb += rd_now.eq(lane(ct_r.data, rlane_q, cb))
            with m.Case(RD_WINNER):
                m.d.comb += rd_now.eq(log_r.data)
            with m.Case(RD_COLSUM):
                m.d.comb += rd_now.eq(cs_r.data)
            with m.Case(RD_SCALE):
                m.d.comb += rd_now.eq(lane(sc_r.data, rlane_q, sb))
        rd_reg, wq = Signal(self.data_w), Signal(self.data_w)
        m.d.sync += [rd_reg.eq(rd_now), wq.eq(Mux(rd_ok, w_r.data, 0))]
        m.d.comb += self.rd_data.eq(Mux(rsel_q2 == RD_WEIGHT, wq, rd_reg))

        # -------------------------------------------------------------------- input generator
        # A_CLEAR turns the pixel codes into thresholds p q_r (stage A1: product, A2: write);
        # a row's comparison then reads the threshold word prefetched in the cycle before.
        a0_v, a0_row = Signal(), Signal(range(max(Q, 2)))
        a1_v, a1_row = Signal(), Signal(range(max(Q, 2)))
        a1_p = [Signal(pb, name=f"thr_p{l}") for l in range(L)]
        a_issue = Signal()
        m.d.sync += [a0_v.eq(a_issue), a0_row.eq(clr), a1_v.eq(a0_v), a1_row.eq(a0_row)]
        m.d.sync += [a1_p[l].eq(lane(pix_r.data, l, c.input_bits) * qr) for l in range(L)]
        m.d.comb += [thr_w.addr.eq(a1_row), thr_w.en.eq(a1_v), thr_w.data.eq(Cat(*a1_p))]
        row_spike = Signal(L)
        for l in range(L):
            valid_row = Const(1) if (Q - 1) * L + l < n_in else (q != Q - 1)
            m.d.comb += row_spike[l].eq(valid_row & (in_words[l] < lane(thr_r.data, l, pb)))
        # the last-spike memory's write is registered (its LUT-RAM spans the chip): it lands
        # one cycle after IN_ROW / A_CLEAR; the memory is read only by the STDP engine
        lw_addr, lw_en, lw_data = Signal(range(max(Q, 2))), Signal(L), Signal(stb + 1)
        lw_addr_q, lw_en_q, lw_data_q = Signal.like(lw_addr), Signal.like(lw_en), Signal.like(lw_data)
        m.d.sync += [lw_addr_q.eq(lw_addr), lw_en_q.eq(lw_en), lw_data_q.eq(lw_data)]
        m.d.comb += [last_w.addr.eq(lw_addr_q), last_w.en.eq(lw_en_q), last_w.data.eq(lw_data_q.replicate(L))]
        low = Signal(range(max(L, 2)))             # lowest set lane of pend
        for l in reversed(range(L)):
            with m.If(pend[l]):
                m.d.comb += low.eq(l)

        # -------------------------------------------------------------------- group pass
        # LEAK: acc = stored (leaked) membrane, or 0; ADD (S + 1 cycles): the weight word of
        # spike k arrives, P registers code * scale, acc adds the P of spike k - 1; END:
        # saturation, refractory, v_th + theta registered; M (next cycle): the margin and the
        # candidate bit -> the winner tree. E2 (the cycle after END) rounds the leak's shifted
        # terms of the membrane, E3 subtracts them and writes the membrane for the next step.
        vth = c.vth_code
        prod = [Signal(unsigned_width(inc_max), name=f"prod{l}") for l in range(nl)]
        w_lane = [lane(w_r.data, l, kb) for l in range(nl)]
        sc_lane = [lane(sc_r.data, l, sb) for l in range(nl)]
        def lane_code(x):
            """The synapse's code, sum over arrays of significance code x device state."""
            terms = [field(x, a) * sigs[a] if sigs[a] != 1 else field(x, a) for a in range(NARR)]
            out = terms[0]
            for term in terms[1:]:
                out = out + term
            return out

        code = [lane_code(w_lane[l]) for l in range(nl)]
        e_end = Signal()                           # END of group g this cycle
        lane_ok = [Const(1) if (G - 1) * nl + l < N else (g != G - 1) for l in range(nl)]
        e2_v, e2_g = Signal(), Signal(range(max(G, 2)))
        e2_vo = [Signal(vb, name=f"vout{l}") for l in range(nl)]
        me_v = Signal()
        me_g, me_base = Signal(range(max(G, 2))), Signal(range(G * nl + 1))
        t0_v = Signal()
        t0_g, t0_base = Signal(range(max(G, 2))), Signal(range(G * nl + 1))
        t0 = []
        r_new = []
        for l in range(nl):
            vs = Signal(vb, name=f"vsat{l}")
            m.d.comb += vs.eq(Mux(acc[l] > vmax, vmax, acc[l]))
            ro = Signal(rb, name=f"rold{l}")
            m.d.comb += ro.eq(Mux(fresh, 0, lane(r_r.data, l, rb)))
            refr = ro != 0
            rn = Signal(rb, name=f"rnew{l}")
            m.d.comb += rn.eq(Mux(refr, ro - 1, 0))
            r_new.append(rn)
            me_vs, me_ok = Signal(vb, name=f"mvs{l}"), Signal(name=f"mok{l}")
            me_th = Signal(max(tb, unsigned_width(vth)) + 1, name=f"mth{l}")
            m.d.sync += [me_vs.eq(vs), me_th.eq(vth + lane(th_r.data, l, tb)), me_ok.eq(lane_ok[l] & ~refr),
                         e2_vo[l].eq(Mux(refr, 0, vs))]
            mg = Signal(signed(mb), name=f"marg{l}")
            m.d.comb += mg.eq(me_vs - me_th)
            ok_q, m_q = Signal(name=f"cand{l}"), Signal(signed(mb), name=f"margq{l}")
            m.d.sync += [ok_q.eq(me_ok & (mg >= 0)), m_q.eq(mg)]
            t0.append((ok_q, m_q, Const(l, range(max(nl, 2)))))
        m.d.sync += [e2_v.eq(e_end), e2_g.eq(g), me_v.eq(e_end), me_g.eq(g), me_base.eq(g_base),
                     t0_v.eq(me_v), t0_g.eq(me_g), t0_base.eq(me_base)]
        e3_v, e3_g = Signal(), Signal(range(max(G, 2)))
        m.d.sync += [e3_v.eq(e2_v), e3_g.eq(e2_g)]
        leaked = []
        for l in range(nl):
            v = Cat(e2_vo[l], Const(0, 2)).as_signed()
            v3 = Signal(signed(vb + 2), name=f"vleak_in{l}")
            m.d.sync += v3.eq(v)
            d = 0
            for i, (e, s) in enumerate(c.leak):
                term = Signal(signed(vb + 2), name=f"vleak_t{l}_{i}")
                m.d.sync += term.eq(_rshift_round(v, e))
                d = d + s * term
            lv = Signal(signed(vb + 2), name=f"vleak{l}")
            m.d.comb += lv.eq(v3 - d)
            leaked.append(lv[:vb])
        m.d.comb += [v_w.addr.eq(e3_g), v_w.en.eq(e3_v), v_w.data.eq(Cat(*leaked))]

        # group winner: a pipelined balanced tree (one register level per pairwise pick); the
        # right (higher-lane) entry wins only when strictly larger, so ties keep the lowest
        # lane; the last stage compares with the step's best so far (groups in order)
        lw = range(max(nl, 2))
        level, lv_v, lv_g, lv_base = t0, t0_v, t0_g, t0_base
        depth = 0
        while len(level) > 1:
            nxt = []
            for p in range(0, len(level) - 1, 2):
                (ok_a, m_a, l_a), (ok_b, m_b, l_b) = level[p], level[p + 1]
                take = ok_b & (~ok_a | (m_b > m_a))
                ok2, m2 = Signal(name=f"gok{depth}_{p}"), Signal(signed(mb), name=f"gm{depth}_{p}")
                l2 = Signal(lw, name=f"gl{depth}_{p}")
                m.d.sync += [ok2.eq(ok_a | ok_b), m2.eq(Mux(take, m_b, m_a)), l2.eq(Mux(take, l_b, l_a))]
                nxt.append((ok2, m2, l2))
            if len(level) % 2:
                ok_a, m_a, l_a = level[-1]
                ok2, m2 = Signal(name=f"gok{depth}_odd"), Signal(signed(mb), name=f"gm{depth}_odd")
                l2 = Signal(lw, name=f"gl{depth}_odd")
                m.d.sync += [ok2.eq(ok_a), m2.eq(m_a), l2.eq(l_a)]
                nxt.append((ok2, m2, l2))
            nv, ng, nb = Signal(name=f"gv{depth}"), Signal(range(max(G, 2)), name=f"gg{depth}"), \
                Signal(range(G * nl + 1), name=f"gbase{depth}")
            m.d.sync += [nv.eq(lv_v), ng.eq(lv_g), nb.eq(lv_base)]
            level, lv_v, lv_g, lv_base, depth = nxt, nv, ng, nb, depth + 1
        assert depth == self.tree_levels
        gb_ok, gb_m, gb_l = level[0]
        with m.If(lv_v & gb_ok & (~best_ok | (gb_m > best_m))):
            m.d.sync += [best_ok.eq(1), best_m.eq(gb_m), best_g.eq(lv_g), best_l.eq(gb_l),
                         best_j.eq(lv_base + gb_l)]

        # -------------------------------------------------------------------- STDP engine
        # One input row per cycle (ISSUE) through four stages: S1 lane selects of the weight
        # word and of the last-spike word, S2 age, S3 LUT read and generator word, S4
        # comparison, write-back and column sum.
        bg_lo = best_g[:GB] if GB else Const(0, 0)
        bl_lo = best_l[:LB] if LB else Const(0, 0)
        # LT-ST: one pass over the rows per array (``sa``, LT first), the array carried along
        # the stages; the lane field keeps the other array's bit on write-back
        s_issue = Signal()
        s1_v, s1_i, s1_ql, s1_end = Signal(), Signal(range(n_in + 1)), Signal(range(L + 1)), Signal()
        m.d.sync += [s1_v.eq(s_issue), s1_i.eq(i_row), s1_ql.eq(ql), s1_end.eq((ql == L - 1) | (i_row == n_in - 1))]
        if NARR > 1:
            sa = Signal(range(NARR))
            s1_a, s2_a, s3_a, s4_a = (Signal.like(sa, name=f"s{x}_a") for x in range(1, 5))
            m.d.sync += [s1_a.eq(sa), s2_a.eq(s1_a), s3_a.eq(s2_a), s4_a.eq(s3_a)]
        else:
            sa = s1_a = s2_a = s3_a = s4_a = Const(0, 1)
        s2_v, s2_i, s2_ql, s2_end = Signal(), Signal.like(s1_i), Signal.like(s1_ql), Signal()
        s2_w, s2_lst = Signal(kb), Signal(stb + 1)
        m.d.sync += [s2_v.eq(s1_v), s2_i.eq(s1_i), s2_ql.eq(s1_ql), s2_end.eq(s1_end),
                     s2_w.eq(lane(w_r.data, best_l, kb)), s2_lst.eq(lane(last_r.data, s1_ql, stb + 1))]
        s3_v, s3_i, s3_ql, s3_end, s3_w = Signal(), Signal.like(s1_i), Signal.like(s1_ql), Signal(), Signal(dkb)
        s3_full = Signal(kb) if NARR > 1 else s3_w
        s3_age = Signal(range(sat + 1))
        dt_age = Signal(stb + 1)
        m.d.comb += dt_age.eq(t - s2_lst[:stb])
        m.d.sync += [s3_v.eq(s2_v), s3_i.eq(s2_i), s3_ql.eq(s2_ql), s3_end.eq(s2_end), s3_w.eq(field(s2_w, s2_a)),
                     s3_age.eq(Mux(~s2_lst[stb] | (dt_age >= sat), sat, dt_age))]
        lut_addr = Cat(s3_age, s3_a) if NARR > 1 else s3_age
        m.d.comb += [pot_r.addr.eq(lut_addr), dep_r.addr.eq(lut_addr), dwd_r.addr.eq(s3_age)]
        s4_v, s4_i, s4_w = Signal(), Signal.like(s1_i), Signal(dkb)
        s4_full = Signal(kb) if NARR > 1 else s4_w
        m.d.sync += [s4_v.eq(s3_v), s4_i.eq(s3_i), s4_w.eq(s3_w)]
        if NARR > 1:
            m.d.sync += [s3_full.eq(s2_w), s4_full.eq(s3_full)]
        w_new = Signal(dkb)
        if stoch:
            s4_word = Signal.like(st_words[0])
            m.d.sync += s4_word.eq(st_words[s3_ql])
            m.d.comb += st_en.eq((s3_v & s3_end) | n_adv if neg_en else s3_v & s3_end)
            thr = Mux(s4_w == 0, pot_r.data, dep_r.data)
            m.d.comb += w_new.eq(Mux(s4_word < thr, 1 - s4_w, s4_w)[:dkb])
        else:
            sn = Signal(signed(dkb + dwb + 2))
            m.d.comb += sn.eq(s4_w + dwd_r.data.as_signed())
            m.d.comb += w_new.eq(Mux(sn < 0, 0, Mux(sn > top, top, sn)))
        with m.If(s4_v):
            m.d.comb += [w_w.addr.eq(Cat(bg_lo, s4_i)), w_w.en.eq(1 << best_l),
                         w_w.data.eq(with_field(s4_full, s4_a, w_new).replicate(nl))]
            m.d.sync += colreg.eq(colreg + (w_new - s4_w) * sig_of(s4_a))

        # scale of a column sum (reciprocal ROM, module notes of quantize.stdp): SC1 picks
        # the ROM address and shift, SC2 reads, SC3 rounds
        A = c.recip_bits
        K = Signal(kwb)
        m.d.comb += K.eq(colreg[:kwb])
        emax = max(0, kwb - A) if gcfg.normalise else 0
        sc_sel = Signal(range(emax + 2))           # 0: K == 0; 1: K < 2^A; 1 + e: bitlen(K) == A + e
        sc_addr = Signal.like(rc_r.addr)
        sc_sel_n, sc_addr_n = Signal.like(sc_sel), Signal.like(sc_addr)
        if gcfg.normalise:
            with m.If(K == 0):
                m.d.comb += sc_sel_n.eq(0)
            with m.Elif(K < (1 << A)):
                m.d.comb += [sc_sel_n.eq(1), sc_addr_n.eq(K)]
            for e in range(1, emax + 1):
                with m.Elif((K >> (A + e - 1)) == 1):
                    m.d.comb += [sc_sel_n.eq(1 + e), sc_addr_n.eq(_rshift_round(K, e))]
        sc_sel2 = Signal.like(sc_sel)
        m.d.sync += [sc_sel.eq(sc_sel_n), sc_addr.eq(sc_addr_n), sc_sel2.eq(sc_sel)]
        m.d.comb += rc_r.addr.eq(sc_addr)
        scale_new = Signal(sb)
        if gcfg.normalise:
            with m.Switch(sc_sel2):
                with m.Case(1):
                    m.d.comb += scale_new.eq(rc_r.data)
                for e in range(1, emax + 1):
                    with m.Case(1 + e):
                        m.d.comb += scale_new.eq(_rshift_round(rc_r.data, e))
        else:
            m.d.comb += scale_new.eq(c.fixed_scale)

        # theta decay: DECAY reads group g, the next cycle writes it
        d_v, d_g = Signal(), Signal(range(max(G, 2)))
        d_issue = Signal()
        m.d.sync += [d_v.eq(d_issue), d_g.eq(g)]
        dec = [lane(th_r.data, l, tb) - _rshift_round(lane(th_r.data, l, tb), shift_sh) for l in range(nl)]

        # -------------------------------------------------------------------- control
        g_lo = g[:GB] if GB else Const(0, 0)           # group bits of a state-memory address

        def next_step():
            m.d.sync += [t.eq(t + 1), q.eq(0), q_base.eq(0), nsp.eq(0)]
            with m.If(t == lo.steps - 1):
                m.next = "ATT_END"
            with m.Else():
                m.next = "IN_ROW"

        def to_groups():
            """After the step's spike list: the negative-window sweep (learning, some spike
            list, a post spike earlier in the attempt), else the group pass."""
            if neg_en:
                with m.If(learn & posted):
                    m.d.sync += nk.eq(0)
                    m.next = "NG_RD"
                with m.Else():
                    m.next = "GRP_INIT"
            else:
                m.next = "GRP_INIT"

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [busy.eq(1), done.eq(0), learn.eq(self.learn), r.eq(0), cycles.eq(0), ptr.eq(0)]
                    m.d.sync += clr.eq(0)
                    m.next = "A_CLEAR"
            with m.State("A_CLEAR"):
                m.d.comb += [lw_addr.eq(clr), lw_en.eq(Mux(clr < Q, (1 << L) - 1, 0)), lw_data.eq(0),
                             ct_w.addr.eq(clr), ct_w.en.eq(Mux(clr < G, (1 << nl) - 1, 0)), ct_w.data.eq(0),
                             pix_r.addr.eq(clr), a_issue.eq(clr < Q)]
                m.d.sync += clr.eq(clr + 1)
                if neg_en:
                    m.d.sync += posted.eq(0)
                    m.d.sync += [lpost[j].eq(0) for j in range(N)]
                with m.If(clr == max(Q, G) + 1):
                    m.d.sync += [t.eq(0), q.eq(0), q_base.eq(0), nsp.eq(0), fresh.eq(1), zero.eq(1), spk.eq(0)]
                    m.next = "IN_ROW"
            with m.State("IN_ROW"):
                m.d.comb += [thr_r.addr.eq(q + 1), lw_addr.eq(q), lw_en.eq(row_spike),
                             lw_data.eq(Cat(t[:stb], Const(1, 1))), in_en.eq(1)]
                m.d.sync += pend.eq(row_spike)
                with m.If(row_spike != 0):
                    m.next = "IN_POP"
                with m.Elif(q == Q - 1):
                    if neg_en:
                        with m.If(nsp != 0):
                            to_groups()
                        with m.Else():
                            m.next = "GRP_INIT"
                    else:
                        m.next = "GRP_INIT"
                with m.Else():
                    m.d.sync += [q.eq(q + 1), q_base.eq(q_base + L)]
            with m.State("IN_POP"):
                m.d.comb += [thr_r.addr.eq(q + 1), spk_w.addr.eq(nsp), spk_w.en.eq(1), spk_w.data.eq(q_base + low)]
                m.d.sync += [nsp.eq(nsp + 1), pend.eq(pend & ~(1 << low))]
                with m.If((pend & (pend - 1)) == 0):         # the last pending spike of the row
                    with m.If(q == Q - 1):
                        to_groups()
                    with m.Else():
                        m.d.sync += [q.eq(q + 1), q_base.eq(q_base + L)]
                        m.next = "IN_ROW"
            with m.State("GRP_INIT"):
                m.d.comb += [v_r.addr.eq(0), spk_r.addr.eq(0)]
                m.d.sync += [g.eq(0), g_base.eq(0), best_ok.eq(0)]
                m.next = "ACC_LEAK"
            with m.State("ACC_LEAK"):
                m.d.comb += [spk_r.addr.eq(1), w_r.addr.eq(Cat(g_lo, spk_r.data)),
                             sc_r.addr.eq(g), r_r.addr.eq(g), th_r.addr.eq(g)]
                m.d.sync += [acc[l].eq(Mux(zero, 0, lane(v_r.data, l, vb))) for l in range(nl)]
                m.d.sync += [prod[l].eq(0) for l in range(nl)]
                m.d.sync += k.eq(0)
                m.next = "ACC_ADD"
            with m.State("ACC_ADD"):
                m.d.comb += [spk_r.addr.eq(k + 2), w_r.addr.eq(Cat(g_lo, spk_r.data)),
                             sc_r.addr.eq(g), r_r.addr.eq(g), th_r.addr.eq(g)]
                m.d.sync += [prod[l].eq(Mux(k == nsp, 0, code[l] * sc_lane[l])) for l in range(nl)]
                m.d.sync += [acc[l].eq(acc[l] + prod[l]) for l in range(nl)]
                m.d.sync += k.eq(k + 1)
                with m.If(k == nsp):
                    m.d.comb += [spk_r.addr.eq(0), v_r.addr.eq(g + 1)]     # the next group's reads
                    m.next = "ACC_END"
            with m.State("ACC_END"):
                # END of group g and, in the same cycle, the LEAK of group g + 1
                m.d.comb += [e_end.eq(1), r_w.addr.eq(g), r_w.en.eq((1 << nl) - 1), r_w.data.eq(Cat(*r_new))]
                m.d.sync += [g.eq(g + 1), g_base.eq(g_base + nl)]
                with m.If(g == G - 1):
                    m.d.sync += drain.eq(0)
                    m.next = "TREE"
                with m.Else():
                    gn = (g + 1)[:GB] if GB else Const(0, 0)
                    m.d.comb += [spk_r.addr.eq(1), w_r.addr.eq(Cat(gn, spk_r.data)),
                                 sc_r.addr.eq(g + 1), r_r.addr.eq(g + 1), th_r.addr.eq(g + 1)]
                    m.d.sync += [acc[l].eq(Mux(zero, 0, lane(v_r.data, l, vb))) for l in range(nl)]
                    m.d.sync += [prod[l].eq(0) for l in range(nl)]
                    m.d.sync += k.eq(0)
                    m.next = "ACC_ADD"
            with m.State("TREE"):
                m.d.sync += drain.eq(drain + 1)
                with m.If(drain == self.tree_levels + 1):
                    m.next = "SE_RD"
            with m.State("SE_RD"):
                m.d.comb += [log_w.addr.eq(ptr), log_w.en.eq(1), log_w.data.eq(Mux(best_ok, best_j + 1, 0)),
                             ct_r.addr.eq(best_g), th_r.addr.eq(best_g), cs_r.addr.eq(Cat(bl_lo, bg_lo))]
                m.d.sync += [ptr.eq(ptr + 1), zero.eq(best_ok), fresh.eq(0)]
                m.next = "SE_WR"
            with m.State("SE_WR"):
                th_sum = lane(th_r.data, best_l, tb) + c.theta_plus_code
                with m.If(best_ok):
                    m.d.sync += spk.eq(spk + 1)
                    if neg_en:
                        m.d.sync += [posted.eq(1), lpost[best_j].eq(Cat(t[:stb], Const(1, 1)))]
                    m.d.comb += [ct_w.addr.eq(best_g), ct_w.en.eq(1 << best_l),
                                 ct_w.data.eq((lane(ct_r.data, best_l, cb) + 1)[:cb].replicate(nl)),
                                 r_w.addr.eq(best_g), r_w.en.eq(1 << best_l),
                                 r_w.data.eq(Const(ref_steps, rb).replicate(nl))]
                with m.If(best_ok & learn):
                    m.d.comb += [th_w.addr.eq(best_g), th_w.en.eq(1 << best_l),
                                 th_w.data.eq(Mux(th_sum > tmax, tmax, th_sum)[:tb].replicate(nl))]
                    m.d.sync += [colreg.eq(cs_r.data), i_row.eq(0), q.eq(0), ql.eq(0)]
                    m.next = "ST_ISSUE"
                with m.Else():
                    next_step()
            with m.State("ST_ISSUE"):
                m.d.comb += [s_issue.eq(1), w_r.addr.eq(Cat(bg_lo, i_row)), last_r.addr.eq(q)]
                with m.If((ql == L - 1) | (i_row == n_in - 1)):
                    m.d.sync += [ql.eq(0), q.eq(q + 1)]
                with m.Else():
                    m.d.sync += ql.eq(ql + 1)
                m.d.sync += i_row.eq(i_row + 1)
                with m.If(i_row == n_in - 1):
                    if NARR == 1:
                        m.d.sync += drain.eq(0)
                        m.next = "ST_DRAIN"
                    else:
                        with m.If(sa == NARR - 1):
                            m.d.sync += [drain.eq(0), sa.eq(0)]
                            m.next = "ST_DRAIN"
                        with m.Else():                       # the next array's pass
                            m.d.sync += [sa.eq(sa + 1), i_row.eq(0), q.eq(0), ql.eq(0)]
            with m.State("ST_DRAIN"):
                m.d.sync += drain.eq(drain + 1)
                with m.If(drain == 3):
                    m.next = "SC1"
            with m.State("SC1"):
                m.d.comb += [cs_w.addr.eq(Cat(bl_lo, bg_lo)), cs_w.en.eq(1), cs_w.data.eq(K)]
                m.next = "SC2"
            with m.State("SC2"):
                m.next = "SC3"
            with m.State("SC3"):
                m.d.comb += [sc_w.addr.eq(best_g), sc_w.en.eq(1 << best_l), sc_w.data.eq(scale_new.replicate(nl))]
                next_step()
            if neg_en:
                # Negative window (eq. 9, dt < 0; quantize.stdp module notes): each spiking
                # row of the step, column after column (NG_A: state word, column sum, age ->
                # neg LUT address; NG_B: compare with the STDP word of the column's lane,
                # write back), a switched device's column sum and scale refreshed (NS1-NS3);
                # the STDP generator advances after every L columns and after the last.
                ng_lo = ngr[:GB] if GB else Const(0, 0)
                nl_lo = nln[:LB] if LB else Const(0, 0)
                lp = lpost[nj]
                dt_n = Signal(stb + 1)
                m.d.comb += dt_n.eq(t - lp[:stb])
                age_n = Mux(~lp[stb] | (dt_n >= sat), sat, dt_n)[:c.age_bits]
                full_n = lane(w_r.data, nln, kb)
                s_n = field(full_n, nsa)
                th_n = neg_r.data
                if stoch:
                    chg = (s_n != 0) & (th_n != 0) & (st_words[nql] < th_n)
                    new_n = Const(0, dkb)
                else:
                    chg = (s_n != 0) & (th_n != 0)
                    new_n = Mux(s_n > th_n, s_n - th_n, 0)[:dkb]

                def next_column():
                    m.d.comb += n_adv.eq((nql == L - 1) | (nj == N - 1))
                    m.d.sync += [nql.eq(Mux(nql == L - 1, 0, nql + 1)), nj.eq(nj + 1)]
                    with m.If(nln == nl - 1):
                        m.d.sync += [nln.eq(0), ngr.eq(ngr + 1)]
                    with m.Else():
                        m.d.sync += nln.eq(nln + 1)
                    more = (nj == N - 1) & (nsa != NARR - 1) if NARR > 1 else Const(0)
                    with m.If(more):                          # the next array, same row
                        if NARR > 1:
                            m.d.sync += [nsa.eq(nsa + 1), nj.eq(0), ngr.eq(0), nln.eq(0), nql.eq(0)]
                        m.next = "NG_A"
                    with m.Elif(nj == N - 1):
                        m.d.sync += nk.eq(nk + 1)
                        if NARR > 1:
                            m.d.sync += nsa.eq(0)
                        with m.If(nk == nsp - 1):
                            m.next = "GRP_INIT"
                        with m.Else():
                            m.next = "NG_RD"
                    with m.Else():
                        m.next = "NG_A"

                with m.State("NG_RD"):
                    m.d.comb += spk_r.addr.eq(nk)
                    m.next = "NG_ROW"
                with m.State("NG_ROW"):
                    m.d.sync += [ni.eq(spk_r.data), nj.eq(0), ngr.eq(0), nln.eq(0), nql.eq(0)]
                    m.next = "NG_A"
                with m.State("NG_A"):
                    m.d.comb += [w_r.addr.eq(Cat(ng_lo, ni)), cs_r.addr.eq(Cat(nl_lo, ng_lo)),
                                 neg_r.addr.eq(Cat(age_n, nsa) if NARR > 1 else age_n)]
                    m.next = "NG_B"
                with m.State("NG_B"):
                    with m.If(chg):
                        m.d.comb += [w_w.addr.eq(Cat(ng_lo, ni)), w_w.en.eq(1 << nln),
                                     w_w.data.eq(with_field(full_n, nsa, new_n).replicate(nl))]
                        m.d.sync += colreg.eq(cs_r.data - (s_n - new_n) * sig_of(nsa))
                        m.next = "NS1"
                    with m.Else():
                        next_column()
                with m.State("NS1"):
                    m.d.comb += [cs_w.addr.eq(Cat(nl_lo, ng_lo)), cs_w.en.eq(1), cs_w.data.eq(K)]
                    m.next = "NS2"
                with m.State("NS2"):
                    m.next = "NS3"
                with m.State("NS3"):
                    m.d.comb += [sc_w.addr.eq(ngr), sc_w.en.eq(1 << nln), sc_w.data.eq(scale_new.replicate(nl))]
                    next_column()
            with m.State("ATT_END"):
                m.d.sync += r.eq(r + 1)
                with m.If((spk >= gcfg.min_spikes) | (r == lo.attempts_max - 1)):
                    m.d.sync += self.attempts.eq(r + 1)
                    with m.If(learn):
                        with m.If(img_ctr == interval - 1):
                            m.d.sync += [img_ctr.eq(0), g.eq(0)]
                            m.next = "DECAY"
                        with m.Else():
                            m.d.sync += img_ctr.eq(img_ctr + 1)
                            m.next = "FINISH"
                    with m.Else():
                        m.next = "FINISH"
                with m.Else():
                    m.d.sync += clr.eq(0)
                    m.next = "A_CLEAR"
            with m.State("DECAY"):
                m.d.comb += [th_r.addr.eq(g), d_issue.eq(1)]
                m.d.sync += g.eq(g + 1)
                with m.If(g == G - 1):
                    m.next = "FINISH"
            with m.State("FINISH"):
                m.d.sync += [busy.eq(0), done.eq(1)]
                m.next = "IDLE"
        with m.If(d_v):
            m.d.comb += [th_w.addr.eq(d_g), th_w.en.eq((1 << nl) - 1), th_w.data.eq(Cat(*[x[:tb] for x in dec]))]
        return m
