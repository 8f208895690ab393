//! The anytime-valid part: a normal-mixture sequential probability ratio
//! test (mSPRT) on the Mann-Whitney statistic, and the normal tail it needs.
//!
//! In information time `I` the centred, standardized U behaves as
//! `X = theta I + W(I)` with `W` a Brownian motion and `theta = P(S > R) -
//! 1/2`: the Hoeffding projection of U is a random walk with bounded steps
//! whose moment generating function is below the Gaussian one of the same
//! variance. The likelihood ratio `exp(theta X - theta^2 I / 2)` mixed over
//! a prior on `theta` is then a nonnegative (super)martingale under the
//! null, so by Ville's inequality it reaches `1 / alpha` with probability
//! at most `alpha`, however often one looks (Robbins 1970; Johari, Koomen,
//! Pekelis & Walsh, "Always valid inference", Operations Research 2022;
//! Howard, Ramdas, McAuliffe & Sekhon, Ann. Statist. 2021 for the
//! sub-Gaussian mixture boundary).

use std::f64::consts::{LN_2, SQRT_2};

use crate::domain::series::Direction;

/// `erfc(x)` for `x >= 0` as `ln`, from Numerical Recipes' Chebyshev fit
/// (relative error below 1.2e-7 everywhere), stable far in the tail.
fn ln_erfc_nonneg(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t.ln() + poly
}

/// The standard normal upper tail `P(Z > z)`.
pub fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    let x = z / SQRT_2;
    if x >= 0.0 {
        0.5 * ln_erfc_nonneg(x).exp()
    } else {
        1.0 - 0.5 * ln_erfc_nonneg(-x).exp()
    }
}

/// `ln P(Z <= z)`, accurate for very negative `z`.
pub fn ln_normal_cdf(z: f64) -> f64 {
    let x = -z / SQRT_2;
    if x >= 0.0 {
        ln_erfc_nonneg(x) - LN_2
    } else {
        (1.0 - 0.5 * ln_erfc_nonneg(-x).exp()).ln()
    }
}

/// The log mixture likelihood ratio after a look with standardized
/// statistic `z` and information `information`, against the alternative
/// `direction` names as harmful, with prior scale `tau` on `theta`:
///
/// * `Either`: `theta ~ N(0, tau^2)`, `ln L = -ln(1 + tau^2 I)/2 +
///   tau^2 X^2 / (2 (1 + tau^2 I))`.
/// * `Increase` (`Decrease` mirrors `X`): `theta` half-normal on
///   `theta > 0`, `L = 2 (1 + tau^2 I)^(-1/2) exp(X^2 / 2a) Phi(X / sqrt a)`
///   with `a = I + 1 / tau^2`.
///
/// with `X = z sqrt(I)`. Zero information gives 0 (no evidence).
pub fn log_mixture_ratio(z: f64, information: f64, tau: f64, direction: Direction) -> f64 {
    if information <= 0.0 || !z.is_finite() {
        return 0.0;
    }
    let x = z * information.sqrt();
    let spread = tau * tau * information;
    let a = information + 1.0 / (tau * tau);
    let base = -0.5 * spread.ln_1p() + x * x / (2.0 * a);
    match direction {
        Direction::Either => base,
        Direction::Increase => LN_2 + base + ln_normal_cdf(x / a.sqrt()),
        Direction::Decrease => LN_2 + base + ln_normal_cdf(-x / a.sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_tables() {
        for (z, p) in [
            (0.0, 0.5),
            (1.0, 0.158_655_25),
            (1.644_853_6, 0.05),
            (1.959_964, 0.025),
            (3.0, 0.001_349_898),
            (-1.0, 0.841_344_75),
            (8.0, 6.220_960_5e-16),
        ] {
            let got = normal_sf(z);
            assert!((got - p).abs() / p < 2e-7, "z {z}: {got} vs {p}");
        }
        assert!((ln_normal_cdf(-30.0) - (-454.321_174_3)).abs() < 1e-4);
    }

    #[test]
    #[allow(clippy::float_cmp)]
    fn mixture_ratio_is_one_without_information_and_grows_with_evidence() {
        assert_eq!(log_mixture_ratio(3.0, 0.0, 0.1, Direction::Either), 0.0);
        let weak = log_mixture_ratio(1.0, 1000.0, 0.1, Direction::Increase);
        let strong = log_mixture_ratio(4.0, 1000.0, 0.1, Direction::Increase);
        assert!(weak < 0.0 && strong > 20f64.ln(), "{weak} {strong}");
        // The wrong direction is no evidence.
        assert!(log_mixture_ratio(4.0, 1000.0, 0.1, Direction::Decrease) < 0.0);
        // One-sided beats two-sided in its own direction.
        assert!(strong > log_mixture_ratio(4.0, 1000.0, 0.1, Direction::Either));
    }
}
