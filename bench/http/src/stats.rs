//! Robust statistics over the slices of a run, and the pair table's verdicts.

/// The median and the quartiles of a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The first quartile.
    pub q1: f64,
    /// The third quartile.
    pub q3: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (NaN ignored), or `None` when none is left.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Spread {
            median: quantile(&v, 0.5),
            q1: quantile(&v, 0.25),
            q3: quantile(&v, 0.75),
            min: v[0],
            max: v[v.len() - 1],
        })
    }

    /// The interquartile range.
    pub fn iqr(&self) -> f64 {
        self.q3 - self.q1
    }
}

/// The `q` quantile of sorted, non-empty `v` (linear interpolation between ranks).
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// A must-show comparison: this toolkit's configuration against a peer's, and the largest
/// ratio of their added costs that passes.
#[derive(Clone, Copy, Debug)]
pub struct Pair {
    /// This toolkit's configuration.
    pub ours: &'static str,
    /// The peer's configuration.
    pub peer: &'static str,
    /// `ours added / peer added` must be below this (`strict`) or at most this.
    pub limit: f64,
    /// Whether the ratio must be strictly below `limit`.
    pub strict: bool,
}

/// The pairs of issue 12's must-show list.
pub const PAIRS: &[Pair] = &[
    Pair {
        ours: "ours-encrypted",
        peer: "actix-private",
        limit: 1.0,
        strict: true,
    },
    Pair {
        ours: "ours-signed",
        peer: "actix-signed",
        limit: 1.0,
        strict: true,
    },
    Pair {
        ours: "ours-memory",
        peer: "tower-memory",
        limit: 1.0,
        strict: true,
    },
    Pair {
        ours: "ours-typed-memory",
        peer: "tower-memory",
        limit: 0.7,
        strict: false,
    },
    Pair {
        ours: "ours-typed-encrypted",
        peer: "actix-private",
        limit: 0.7,
        strict: false,
    },
];

impl Pair {
    /// Whether `ratio` passes.
    pub fn passes(&self, ratio: f64) -> bool {
        if self.strict {
            ratio < self.limit
        } else {
            ratio <= self.limit
        }
    }

    /// The limit as the table prints it (`< 1`, `<= 0.7`).
    pub fn limit_text(&self) -> String {
        if self.strict {
            format!("< {}", self.limit)
        } else {
            format!("<= {}", self.limit)
        }
    }
}

/// `ours / peer` when the peer adds something, else NaN (no ratio).
pub fn ratio(ours: f64, peer: f64) -> f64 {
    if peer > 0.0 { ours / peer } else { f64::NAN }
}

/// How many of `n` slices must agree for a verdict: at least three quarters, and enough
/// that agreement by chance is unlikely (a one-sided sign test at 5 %: if each slice fell on
/// either side of the limit with even odds, `k` or more of `n` on one side would happen
/// with a probability of at most 0.05). 7 of 8 (three quarters alone, 6 of 8, happens by
/// chance 14 % of the time: two runs of the same code gave PASS and FAIL for one pair),
/// 9 of 10, 12 of 16, 15 of 20; no verdict with fewer than 5 slices.
pub fn agreeing(n: usize) -> usize {
    // P(X >= k) for X ~ Binomial(n, 1/2), summed from the top.
    let total = 2f64.powi(n as i32);
    let mut tail = 0.0;
    let mut choose = 1.0; // C(n, n)
    let mut k = n + 1;
    for j in (0..=n).rev() {
        if j < n {
            // C(n, j) = C(n, j + 1) * (j + 1) / (n - j)
            choose = choose * (j + 1) as f64 / (n - j) as f64;
        }
        if (tail + choose) / total > 0.05 {
            break;
        }
        tail += choose;
        k = j;
    }
    k.max((3 * n).div_ceil(4))
}

/// The verdict of a pair over a run of slices: PASS when the ratio of the medians passes
/// and at least [`agreeing`] of the slices' own ratios do too, FAIL when the ratio of the
/// medians fails and as many slices' ratios fail too, UNCLEAR otherwise (the run is too
/// noisy to say).
pub fn verdict(pair: &Pair, of_medians: f64, slices: &[f64]) -> &'static str {
    let defined: Vec<f64> = slices.iter().copied().filter(|r| !r.is_nan()).collect();
    let passing = defined.iter().filter(|r| pair.passes(**r)).count();
    let n = defined.len();
    let need = agreeing(n);
    if of_medians.is_nan() || n == 0 {
        "UNCLEAR"
    } else if pair.passes(of_medians) && passing >= need {
        "PASS"
    } else if !pair.passes(of_medians) && n - passing >= need {
        "FAIL"
    } else {
        "UNCLEAR"
    }
}

/// How many resamples [`ratio_interval`] draws.
pub const RESAMPLES: usize = 2000;

/// A 95 % percentile-bootstrap interval of the ratio of medians `median(ours - ours_base) /
/// median(peer - peer_base)`, where each series holds one value per slice and a slice ran
/// all four back to back: slices are drawn with replacement, the same slices for the four
/// series (so a slow moment of the machine moves all of them), the baselines' medians
/// recomputed from the drawn slices as the table's are from all of them. The draws come
/// from a fixed-seed generator: the same run gives the same interval. `None` with fewer
/// than 5 slices or when a resample has no peer cost to divide by.
pub fn ratio_interval(
    ours: &[f64],
    ours_base: &[f64],
    peer: &[f64],
    peer_base: &[f64],
) -> Option<(f64, f64)> {
    let n = ours
        .len()
        .min(ours_base.len())
        .min(peer.len())
        .min(peer_base.len());
    if n < 5 {
        return None;
    }
    let median = |v: &mut Vec<f64>| Spread::of(v).map(|s| s.median);
    // xorshift64*: enough for drawing indices.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut draw = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    };
    let mut ratios = Vec::with_capacity(RESAMPLES);
    let (mut a, mut ab, mut b, mut bb) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for _ in 0..RESAMPLES {
        for v in [&mut a, &mut ab, &mut b, &mut bb] {
            v.clear();
        }
        for _ in 0..n {
            let i = draw();
            a.push(ours[i]);
            ab.push(ours_base[i]);
            b.push(peer[i]);
            bb.push(peer_base[i]);
        }
        let ours_added = median(&mut a)? - median(&mut ab)?;
        let peer_added = median(&mut b)? - median(&mut bb)?;
        let r = ratio(ours_added, peer_added);
        if r.is_nan() {
            return None;
        }
        ratios.push(r);
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((RESAMPLES as f64 - 1.0) * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// What a bootstrap interval of a ratio says about the limit: PASS when all of it meets
/// the limit, FAIL when none of it does, UNCLEAR when it straddles the limit.
pub fn interval_verdict(pair: &Pair, interval: Option<(f64, f64)>) -> &'static str {
    match interval {
        Some((_, high)) if pair.passes(high) => "PASS",
        Some((low, _)) if !pair.passes(low) => "FAIL",
        _ => "UNCLEAR",
    }
}

/// How close to the limit (relative) an instruction-count ratio is called level: the counts
/// of one configuration repeat within about 1% between runs (timers, hash maps, the
/// counter's digits).
pub const COUNT_TOLERANCE: f64 = 0.02;

/// The verdict of a pair from instruction counts: PASS or FAIL, LEVEL within
/// [`COUNT_TOLERANCE`] of the limit, UNCLEAR without a ratio.
pub fn count_verdict(pair: &Pair, ratio: f64) -> &'static str {
    if ratio.is_nan() {
        "UNCLEAR"
    } else if (ratio - pair.limit).abs() <= COUNT_TOLERANCE * pair.limit {
        "LEVEL"
    } else if pair.passes(ratio) {
        "PASS"
    } else {
        "FAIL"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate() {
        let s = Spread::of(&[4.0, 1.0, 3.0, 2.0, f64::NAN]).expect("values");
        assert_eq!(s.median, 2.5);
        assert_eq!(s.q1, 1.75);
        assert_eq!(s.q3, 3.25);
        assert_eq!((s.min, s.max), (1.0, 4.0));
        assert_eq!(Spread::of(&[f64::NAN]), None);
    }

    #[test]
    fn agreement_needed_by_a_sign_test() {
        let needed: Vec<usize> = [4, 5, 8, 10, 16, 20, 40].map(agreeing).to_vec();
        assert_eq!(needed, [5, 5, 7, 9, 12, 15, 30]);
    }

    #[test]
    fn bootstrap_intervals_bracket_the_ratio_and_follow_the_noise() {
        // Ours adds 5 over its baseline of 10, the peer 10 over the same baseline: 0.5.
        let base = [10.0; 12];
        let ours = [15.0; 12];
        let peer = [20.0; 12];
        assert_eq!(ratio_interval(&ours, &base, &peer, &base), Some((0.5, 0.5)));
        // Noise widens the interval around the ratio of the medians.
        let noisy_ours: Vec<f64> = (0..24).map(|i| 15.0 + [-3.0, 3.0][i % 2]).collect();
        let noisy_peer: Vec<f64> = (0..24).map(|i| 20.0 + [2.0, -2.0, 0.0][i % 3]).collect();
        let base = [10.0; 24];
        let (low, high) = ratio_interval(&noisy_ours, &base, &noisy_peer, &base).expect("slices");
        assert!(low < 0.5 && high > 0.5 && high < 1.0, "{low} {high}");
        let p = PAIRS[0];
        assert_eq!(interval_verdict(&p, Some((low, high))), "PASS");
        assert_eq!(interval_verdict(&p, Some((0.9, 1.1))), "UNCLEAR");
        assert_eq!(interval_verdict(&p, Some((1.1, 1.3))), "FAIL");
        assert_eq!(interval_verdict(&p, None), "UNCLEAR");
        // Too few slices, or no peer cost: no interval.
        assert_eq!(
            ratio_interval(&ours[..4], &base[..4], &peer[..4], &base[..4]),
            None
        );
        assert_eq!(
            ratio_interval(&ours, &base[..12], &base[..12], &base[..12]),
            None
        );
    }

    #[test]
    fn verdicts() {
        let p = PAIRS[0];
        assert_eq!(verdict(&p, 0.8, &[0.7, 0.9, 0.8, 0.85, 0.9]), "PASS");
        assert_eq!(verdict(&p, 1.2, &[1.1, 1.3, 1.2, 1.4, 1.5]), "FAIL");
        assert_eq!(verdict(&p, 0.95, &[0.7, 1.3, 0.9, 1.2]), "UNCLEAR");
        // Three quarters were enough before: 6 of 8 is not (chance: 14 %), 7 of 8 is.
        let six = [0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.2, 1.2];
        assert_eq!(verdict(&p, 0.8, &six), "UNCLEAR");
        let seven = [0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 1.2];
        assert_eq!(verdict(&p, 0.8, &seven), "PASS");
        // Four slices can never decide.
        assert_eq!(verdict(&p, 0.8, &[0.7, 0.7, 0.7, 0.7]), "UNCLEAR");
        assert_eq!(verdict(&p, f64::NAN, &[]), "UNCLEAR");
        let typed = PAIRS[3];
        assert!(typed.passes(0.7) && !typed.passes(0.71));
        assert!(!p.passes(1.0));
        assert!(ratio(1.0, 0.0).is_nan());
        assert_eq!(count_verdict(&p, 1.01), "LEVEL");
        assert_eq!(count_verdict(&p, 0.9), "PASS");
        assert_eq!(count_verdict(&p, 1.18), "FAIL");
        assert_eq!(count_verdict(&typed, 0.72), "FAIL");
        assert_eq!(count_verdict(&typed, 0.71), "LEVEL");
    }
}
