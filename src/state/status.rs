//! The status rule: how a development's claims decide its status.
//!
//! The status is a pure function of the *set* of claims, so the same reports in any arrival
//! order end in the same status. Claims are folded in publication order (by day: wire
//! reports rarely carry a finer time, and same-day reports are treated as simultaneous):
//!
//! 1. A claim further along planned < underway < completed moves the status forward.
//! 2. A claim for an earlier stage never moves it back. Published the same day as the
//!    claim that set the current status it is a *lagging* report and corroborates history;
//!    published later it opens a *dispute*, which keeps both claims.
//! 3. Halted, cancelled and denied are explicit reversals and move the status sideways;
//!    folding in publication order means only a newer (or same-day) reversal can.
//! 4. From a reversal, a later claim moves the status on again (an evacuation resumes, a
//!    summit is revived); an explicit resumption ("resumed") does so even on the same day.
//!
//! Within one day, claims are taken in the order planned, underway, completed, reversals,
//! resumptions, so a report that says "began, then was suspended" ends halted.

use time::Date;

use crate::extraction::Status;

/// The parts of a claim the rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct RuleClaim<'a> {
    pub status: Status,
    pub resumption: bool,
    pub day: Date,
    pub report: &'a str,
    pub sentence: usize,
}

/// A status change found by the fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub from: Option<Status>,
    pub to: Status,
    /// Index of the claim that caused it.
    pub claim: usize,
}

/// What the fold concluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<Status>,
    /// Index of the claim that set the current status.
    pub setter: Option<usize>,
    pub history: Vec<Step>,
    /// (claim, the claim it contradicts).
    pub disputes: Vec<(usize, usize)>,
    /// Claims that state the current status, or an earlier one on the same day (lagging).
    pub corroborating: Vec<usize>,
}

fn rank(c: &RuleClaim<'_>) -> u8 {
    if c.resumption {
        return 4;
    }
    match c.status {
        Status::Planned => 0,
        Status::Underway => 1,
        Status::Completed => 2,
        Status::Halted | Status::Cancelled | Status::Denied => 3,
    }
}

/// Folds the claims (given in any order; indices refer to `claims`).
pub fn decide(claims: &[RuleClaim<'_>]) -> Outcome {
    let mut order: Vec<usize> = (0..claims.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&claims[a], &claims[b]);
        (x.day, rank(x), x.report, x.sentence).cmp(&(y.day, rank(y), y.report, y.sentence))
    });
    let mut out = Outcome::default();
    for i in order {
        let c = &claims[i];
        let Some(cur) = out.status else {
            out.status = Some(c.status);
            out.setter = Some(i);
            out.history.push(Step {
                from: None,
                to: c.status,
                claim: i,
            });
            continue;
        };
        let setter = out.setter.unwrap_or(i);
        let newer = c.day > claims[setter].day;
        let moves = match (cur.stage(), c.status.stage()) {
            _ if c.status == cur => false,
            // Forward only along the progression.
            (Some(now), Some(next)) => {
                if next > now {
                    true
                } else {
                    if newer {
                        out.disputes.push((i, setter));
                    } else {
                        out.corroborating.push(i);
                    }
                    continue;
                }
            }
            // A reversal (halted, cancelled, denied) from any status.
            (_, None) => true,
            // Out of a reversal: a newer claim or an explicit resumption.
            (None, Some(_)) => {
                if newer || c.resumption {
                    true
                } else {
                    out.corroborating.push(i);
                    continue;
                }
            }
        };
        if moves {
            out.history.push(Step {
                from: Some(cur),
                to: c.status,
                claim: i,
            });
            out.status = Some(c.status);
            out.setter = Some(i);
        } else {
            out.corroborating.push(i);
        }
    }
    // Corroboration is about the current status (or lagging on its day); keep it stable.
    out.corroborating.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn c(status: Status, day: Date, report: &'static str) -> RuleClaim<'static> {
        RuleClaim {
            status,
            resumption: false,
            day,
            report,
            sentence: 0,
        }
    }

    fn permutations(v: &[RuleClaim<'static>]) -> Vec<Vec<RuleClaim<'static>>> {
        if v.len() <= 1 {
            return vec![v.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..v.len() {
            let mut rest = v.to_vec();
            let x = rest.remove(i);
            for mut p in permutations(&rest) {
                p.insert(0, x);
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn forward_progression_three_reports() {
        let o = decide(&[
            c(Status::Planned, date!(2030 - 01 - 01), "a"),
            c(Status::Underway, date!(2030 - 01 - 02), "b"),
            c(Status::Completed, date!(2030 - 01 - 03), "c"),
        ]);
        assert_eq!(o.status, Some(Status::Completed));
        assert_eq!(o.history.len(), 3);
    }

    #[test]
    fn lagging_report_after_completion_does_not_roll_back() {
        // Same day: a lagging report corroborates history.
        let o = decide(&[
            c(Status::Completed, date!(2030 - 01 - 03), "a"),
            c(Status::Underway, date!(2030 - 01 - 03), "b"),
        ]);
        assert_eq!(o.status, Some(Status::Completed));
        assert!(o.disputes.is_empty());
        // It joins the history as the earlier step instead.
        let steps: Vec<_> = o.history.iter().map(|s| (s.claim, s.to)).collect();
        assert_eq!(steps, [(1, Status::Underway), (0, Status::Completed)]);
        // Published later: it opens a dispute, and the status still stays.
        let o = decide(&[
            c(Status::Completed, date!(2030 - 01 - 03), "a"),
            c(Status::Underway, date!(2030 - 01 - 04), "b"),
        ]);
        assert_eq!(o.status, Some(Status::Completed));
        assert_eq!(o.disputes, vec![(1, 0)]);
    }

    #[test]
    fn reversal_then_resumption() {
        let mut resumed = c(Status::Underway, date!(2030 - 01 - 05), "c");
        resumed.resumption = true;
        let o = decide(&[
            c(Status::Underway, date!(2030 - 01 - 02), "a"),
            c(Status::Halted, date!(2030 - 01 - 03), "b"),
            resumed,
            c(Status::Completed, date!(2030 - 01 - 08), "d"),
        ]);
        let path: Vec<_> = o.history.iter().map(|s| s.to).collect();
        assert_eq!(
            path,
            [
                Status::Underway,
                Status::Halted,
                Status::Underway,
                Status::Completed
            ]
        );
    }

    #[test]
    fn older_reversal_does_not_undo_newer_progress() {
        let o = decide(&[
            c(Status::Completed, date!(2030 - 01 - 05), "a"),
            c(Status::Halted, date!(2030 - 01 - 03), "b"),
        ]);
        assert_eq!(o.status, Some(Status::Completed));
    }

    #[test]
    fn same_day_start_and_halt_ends_halted() {
        let o = decide(&[
            c(Status::Halted, date!(2030 - 01 - 03), "a"),
            c(Status::Underway, date!(2030 - 01 - 03), "a"),
        ]);
        assert_eq!(o.status, Some(Status::Halted));
    }

    #[test]
    fn any_arrival_order_gives_the_same_outcome() {
        let claims = [
            c(Status::Planned, date!(2030 - 01 - 01), "a"),
            c(Status::Underway, date!(2030 - 01 - 02), "b"),
            c(Status::Halted, date!(2030 - 01 - 03), "c"),
            c(Status::Underway, date!(2030 - 01 - 04), "d"),
            c(Status::Planned, date!(2030 - 01 - 05), "e"),
        ];
        let reference = decide(&claims);
        for p in permutations(&claims) {
            let o = decide(&p);
            assert_eq!(o.status, reference.status);
            fn map(o: &Outcome, v: &[RuleClaim<'static>]) -> Vec<(&'static str, Status)> {
                o.history
                    .iter()
                    .map(|s| (v[s.claim].report, s.to))
                    .collect()
            }
            assert_eq!(map(&o, &p), map(&reference, &claims));
        }
    }
}
