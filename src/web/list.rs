//! What the lists of cases share: a page of [`PAGE_SIZE`] rows, the NHS.UK pagination
//! component's links (`partials/pagination.hbs`) and the tags rows carry.

use crate::db::disputes::ListedCase;
use crate::domain::dispute::Dispute;
use crate::domain::workflow::State;
use serde::Serialize;
use std::collections::HashMap;

/// How many cases a page of a list shows (as the API pages `GET /disputes`); the others are
/// on the next pages, linked with the NHS.UK pagination component.
pub const PAGE_SIZE: i64 = 50;

/// A tag: words and the colour that goes with them (never the colour alone).
#[derive(Serialize)]
pub struct Tag {
    pub text: &'static str,
    pub colour: &'static str,
}

/// What every list shows of a case: its link, reference, title, parties (named from the
/// names loaded with the page) and state as a tag. A row of a list flattens it into its own.
#[derive(Serialize)]
pub struct CaseCells<'a> {
    pub id: &'a str,
    pub case_ref: String,
    pub title: &'a str,
    pub appellant: &'a str,
    pub respondent: &'a str,
    pub state: Tag,
}

impl<'a> CaseCells<'a> {
    pub fn of(d: &'a Dispute, names: &'a HashMap<String, String>) -> CaseCells<'a> {
        Self::cells(
            &d.id,
            &d.title,
            &d.appellant_id,
            &d.respondent_id,
            d.state,
            names,
        )
    }

    /// The same cells from a list's narrow read of the case.
    pub fn listed(d: &'a ListedCase, names: &'a HashMap<String, String>) -> CaseCells<'a> {
        Self::cells(
            &d.id,
            &d.title,
            &d.appellant_id,
            &d.respondent_id,
            d.facts.state,
            names,
        )
    }

    fn cells(
        id: &'a str,
        title: &'a str,
        appellant_id: &str,
        respondent_id: &str,
        state: State,
        names: &'a HashMap<String, String>,
    ) -> CaseCells<'a> {
        let org = |id: &str| names.get(id).map_or("(unknown)", String::as_str);
        let (text, colour) = super::words::state(state);
        CaseCells {
            id,
            case_ref: crate::domain::dispute::case_ref(id),
            title,
            appellant: org(appellant_id),
            respondent: org(respondent_id),
            state: Tag { text, colour },
        }
    }
}

/// A link of the pagination component.
#[derive(Serialize)]
pub struct PageLink {
    pub href: String,
    pub label: String,
}

/// Where a page stands in its list, as the pagination partial reads it.
#[derive(Serialize)]
pub struct Paging {
    /// The page shown, from 1.
    #[serde(skip)]
    pub number: i64,
    /// "Cases 51 to 100 of 200.", when there is more than one page.
    pub range: Option<String>,
    pub previous: Option<PageLink>,
    pub next: Option<PageLink>,
}

impl Paging {
    /// The page `asked` for (a page number as the query gave it; anything that is not one is
    /// the first page, and a page past the last is the last) of a list of `total` cases, its
    /// neighbours linked by `href(n)`.
    pub fn of(asked: Option<&str>, total: i64, href: impl Fn(i64) -> String) -> Paging {
        let last = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let number = asked
            .and_then(|p| p.trim().parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, last);
        let shown = |n: i64| ((n - 1) * PAGE_SIZE + 1, (n * PAGE_SIZE).min(total));
        let link = |n: i64| {
            let (from, to) = shown(n);
            PageLink {
                href: href(n),
                label: format!("Cases {from} to {to}"),
            }
        };
        Paging {
            number,
            range: (total > PAGE_SIZE).then(|| {
                let (from, to) = shown(number);
                format!("Cases {from} to {to} of {total}.")
            }),
            previous: (number > 1).then(|| link(number - 1)),
            next: (number < last).then(|| link(number + 1)),
        }
    }

    /// How many rows come before this page's first.
    pub fn offset(&self) -> i64 {
        (self.number - 1) * PAGE_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_past_the_last_is_the_last_and_nonsense_is_the_first() {
        let href = |n: i64| format!("/?page={n}");
        let p = Paging::of(Some("9"), 120, href);
        assert_eq!((p.number, p.offset()), (3, 100));
        assert_eq!(p.range.as_deref(), Some("Cases 101 to 120 of 120."));
        assert_eq!(p.previous.as_ref().unwrap().label, "Cases 51 to 100");
        assert!(p.next.is_none());
        let p = Paging::of(Some("x"), 120, href);
        assert_eq!(p.number, 1);
        assert!(p.previous.is_none());
        assert_eq!(p.next.as_ref().unwrap().href, "/?page=2");
        let p = Paging::of(None, 50, href);
        assert!(p.range.is_none() && p.previous.is_none() && p.next.is_none());
        let p = Paging::of(Some("-3"), 0, href);
        assert_eq!((p.number, p.offset()), (1, 0));
    }
}
