//! The listings a run's workers take, one at a time, and the splitting of the last windows.
//!
//! A window's pages are read one after another (each checks the one before), so a window is
//! one worker's for as long as its pages take: a day of a busy project is about a second at
//! 30 ms a page. When fewer listings are left than there are workers, the last windows would
//! run while the other workers wait; instead each is halved as it is taken, and the halves
//! run side by side. A half costs one request more at most (two part-filled last pages
//! instead of one), and only the run's last windows are halved, so a quiet project's
//! request count barely changes. What it saves is in the README's performance section.
//!
//! A planned window counts as completed when all its pieces are.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::Duration;

use super::fetch::{split, Listing};

/// Windows are not halved below this for idle workers: a day becomes two halves and then
/// quarters at most, so a quiet project, whose windows hold a page each, pays a few requests.
const MIN_SPLIT_FOR_IDLE: Duration = Duration::hours(6);

/// A piece of work: a listing, and the planned listing it is (a part of).
#[derive(Debug)]
pub struct Piece {
    pub listing: Listing,
    origin: usize,
}

/// The shared queue of pieces, and what is left of each planned listing.
pub struct Schedule {
    workers: usize,
    state: Mutex<State>,
}

struct State {
    queue: VecDeque<Piece>,
    /// Per planned listing: pieces not yet finished, and whether one failed.
    open_pieces: Vec<usize>,
    failed: Vec<bool>,
    completed: usize,
}

impl Schedule {
    pub fn new(listings: Vec<Listing>, workers: usize) -> Schedule {
        let planned = listings.len();
        Schedule {
            workers: workers.max(1),
            state: Mutex::new(State {
                queue: listings
                    .into_iter()
                    .enumerate()
                    .map(|(origin, listing)| Piece { listing, origin })
                    .collect(),
                open_pieces: vec![1; planned],
                failed: vec![false; planned],
                completed: 0,
            }),
        }
    }

    /// The next piece, or `None` when all are taken. A window taken when fewer pieces than
    /// workers are left is halved, and its older half goes back into the queue. Returns the
    /// pieces added, for the progress count.
    pub fn take(&self) -> Option<(Piece, u64)> {
        let mut state = self.lock();
        let piece = state.queue.pop_front()?;
        let idle_soon = state.queue.len() + 1 < self.workers;
        let halves = match &piece.listing {
            Listing::Window(w) if idle_soon && w.end - w.start >= MIN_SPLIT_FOR_IDLE * 2 => {
                split(&piece.listing)
            }
            _ => None,
        };
        let Some((older, newer)) = halves else {
            return Some((piece, 0));
        };
        state.open_pieces[piece.origin] += 1;
        state.queue.push_back(Piece {
            listing: older,
            origin: piece.origin,
        });
        Some((
            Piece {
                listing: newer,
                origin: piece.origin,
            },
            1,
        ))
    }

    /// Records a piece's end; its planned listing completes with its last piece, unless one
    /// of them failed. Returns whether this piece completed its planned listing.
    pub fn finished(&self, piece: &Piece, ok: bool) -> bool {
        let mut state = self.lock();
        let origin = piece.origin;
        state.open_pieces[origin] -= 1;
        state.failed[origin] |= !ok;
        let completes = state.open_pieces[origin] == 0 && !state.failed[origin];
        state.completed += usize::from(completes);
        completes
    }

    /// Planned listings whose every piece was fetched.
    pub fn completed(&self) -> usize {
        self.lock().completed
    }

    /// Planned listings of which a piece failed.
    pub fn failed(&self) -> usize {
        self.lock().failed.iter().filter(|f| **f).count()
    }

    /// How many listings were planned.
    pub fn planned(&self) -> usize {
        self.lock().failed.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("schedule lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Window;
    use chrono::{DateTime, TimeZone, Utc};

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()
    }

    fn window(from: u32, to: u32) -> Listing {
        Listing::Window(Window {
            start: day(from),
            end: day(to),
        })
    }

    fn span(piece: &Piece) -> (DateTime<Utc>, DateTime<Utc>) {
        match &piece.listing {
            Listing::Window(w) => (w.start, w.end),
            other => panic!("not a window: {other}"),
        }
    }

    #[test]
    fn only_the_last_windows_are_halved_and_the_halves_cover_them() {
        let schedule = Schedule::new((1..=4).map(|d| window(d, d + 1)).collect(), 2);
        let mut taken = Vec::new();
        while let Some((piece, _)) = schedule.take() {
            taken.push(piece);
        }
        // Days 1 to 3 are taken while at least two pieces are queued; day 4 is taken last,
        // alone, and is halved, then its older half is taken as the last piece and halved
        // again, into quarters, which are not split further.
        let spans: Vec<_> = taken.iter().map(span).collect();
        assert_eq!(
            spans[..3],
            [(day(1), day(2)), (day(2), day(3)), (day(3), day(4))]
        );
        let mut rest: Vec<_> = spans[3..].to_vec();
        rest.sort();
        assert_eq!(rest.len(), 3, "the last day was split twice: {rest:?}");
        assert_eq!(rest.first().unwrap().0, day(4));
        assert_eq!(rest.last().unwrap().1, day(5));
        assert!(rest.windows(2).all(|w| w[0].1 == w[1].0), "{rest:?}");
        assert!(rest.iter().all(|(s, e)| *e - *s >= MIN_SPLIT_FOR_IDLE));

        for piece in &taken {
            schedule.finished(piece, true);
        }
        assert_eq!(schedule.completed(), 4);
    }

    #[test]
    fn a_window_completes_only_when_all_its_pieces_did() {
        let schedule = Schedule::new(vec![window(1, 2)], 4);
        let (first, added) = schedule.take().unwrap();
        assert_eq!(added, 1);
        let (second, _) = schedule.take().unwrap();
        let mut pieces = vec![first, second];
        while let Some((piece, _)) = schedule.take() {
            pieces.push(piece);
        }
        let (last, others) = pieces.split_last().unwrap();
        for piece in others {
            schedule.finished(piece, true);
        }
        assert_eq!(schedule.completed(), 0, "one piece is still out");
        assert!(!schedule.finished(last, false));
        assert_eq!(schedule.completed(), 0, "a piece failed");
        assert_eq!((schedule.planned(), schedule.failed()), (1, 1));

        let schedule = Schedule::new(vec![window(1, 2)], 4);
        let mut pieces = Vec::new();
        while let Some((piece, _)) = schedule.take() {
            pieces.push(piece);
        }
        let (last, others) = pieces.split_last().unwrap();
        for piece in others {
            assert!(!schedule.finished(piece, true));
        }
        assert!(
            schedule.finished(last, true),
            "the last piece completes the window"
        );
        assert_eq!(schedule.completed(), 1);
        assert_eq!(schedule.failed(), 0);
    }

    #[test]
    fn other_listings_and_short_windows_are_never_split() {
        let short = Listing::Window(Window {
            start: day(1),
            end: day(1) + Duration::hours(3),
        });
        let status = Listing::Status {
            status: "Running".into(),
            created_after: None,
            created_before: None,
        };
        let schedule = Schedule::new(vec![short, status], 8);
        assert_eq!(schedule.take().unwrap().1, 0);
        assert_eq!(schedule.take().unwrap().1, 0);
        assert!(schedule.take().is_none());
    }
}
