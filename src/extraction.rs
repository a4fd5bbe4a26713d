//! The vocabulary extraction hands to the situation: entity kinds and mentions, claims,
//! statuses and how a claim is put.
//!
//! It lives apart from the extract stage so that the situation (and evaluation) depend on
//! what a report says, not on how the stage finds it: a new recognizer or a learned status
//! model changes `stages::extract`, never `state`.

use foldhash::HashSet;
use serde::Serialize;

use crate::text::{with_lower, NameKeyer};

/// The kinds of entity the situation knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Person,
    Place,
    Organization,
    Facility,
    Other,
}

impl EntityKind {
    pub fn parse(s: &str) -> EntityKind {
        match s {
            "person" => EntityKind::Person,
            "place" => EntityKind::Place,
            "organization" => EntityKind::Organization,
            "facility" => EntityKind::Facility,
            _ => EntityKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Place => "place",
            EntityKind::Organization => "organization",
            EntityKind::Facility => "facility",
            EntityKind::Other => "other",
        }
    }
}

/// How sure a rule is of the kind it gives; the situation keeps the best-supported kind.
pub type KindWeight = u8;

/// The weight of a kind the tagger gives: above the weak rules (a capitalized word after
/// "in", an acronym, an untyped name), below titles and head words, which say outright what
/// a name is, and the gazetteer.
pub const MODEL_WEIGHT: KindWeight = 4;

/// The key prefix of a qualified role no one in the report holds ("the US president"):
/// the words after it are the role's, which the situation gives the one person other
/// reports titled so.
pub const ROLE: &str = "role:";

/// One entity mention in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Sentence index in the report.
    pub sentence: usize,
    /// Byte range in the folded sentence text.
    pub start: usize,
    pub end: usize,
    /// The name as written (folded), titles excluded.
    pub surface: String,
    pub kind: EntityKind,
    pub weight: KindWeight,
    /// The comparison key (see [`NameKeyer`]); facilities carry their head group.
    pub key: String,
    /// Index of the gazetteer entry, when the gazetteer knows the name.
    pub gazetteer: Option<usize>,
    /// True for an adjective that refers to a country ("Russian forces").
    pub demonym: bool,
    /// An earlier mention in this report that this one refers to (surname, acronym).
    pub link: Option<usize>,
    /// The name as the report writes it around this mention, where that differs from
    /// `surface`: with the title that introduces a person, alone and with the country or
    /// body the title is of ("special envoy Steve Witkoff", "US special envoy Steve
    /// Witkoff"), or in a dateline's capitals ("TAMZAR CITY"). Each is one more alias:
    /// readers and later reports name people and places that way.
    pub written: Vec<String>,
    /// Spans another mention of the report that plays the roles: a country's forces or
    /// ministry ("Israeli troops", "Pakistan's military") around the country's name. It
    /// names an entity of its own, but claims read the country, so that one withdrawal is
    /// one development however the forces are named.
    pub enclosing: bool,
}

/// Initials of the capitalized words of a name ("Syrian Democratic Forces" → "SDF").
pub fn initials(name: &str, connectors: &HashSet<String>) -> String {
    initials_by(name, |w| with_lower(w, |lower| connectors.contains(lower)))
}

/// [`initials`], with connectors told apart by `is_connector`.
pub fn initials_by(name: &str, is_connector: impl Fn(&str) -> bool) -> String {
    name.split_whitespace()
        .filter(|w| !is_connector(w))
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_uppercase())
        .collect()
}

/// The status of a development, as a report states it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Planned,
    Underway,
    Completed,
    Halted,
    Cancelled,
    Denied,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "planned" => Status::Planned,
            "underway" => Status::Underway,
            "completed" => Status::Completed,
            "halted" => Status::Halted,
            "cancelled" => Status::Cancelled,
            "denied" => Status::Denied,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Underway => "underway",
            Status::Completed => "completed",
            Status::Halted => "halted",
            Status::Cancelled => "cancelled",
            Status::Denied => "denied",
        }
    }

    /// Position on the forward path planned < underway < completed; `None` for the
    /// sideways statuses (halted, cancelled, denied).
    pub fn stage(self) -> Option<u8> {
        match self {
            Status::Planned => Some(0),
            Status::Underway => Some(1),
            Status::Completed => Some(2),
            _ => None,
        }
    }
}

/// How a claim is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Stated as fact.
    Asserted,
    /// Negated; the status (if any) is the negation map's.
    Negated,
    /// Hedged ("may", "could", "did not rule out"): evidence only.
    Hedged,
    /// About an earlier occasion ("last visited", "years ago"): evidence only.
    Background,
}

/// A claim found in one sentence, with roles as indices into the report's mentions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimDraft {
    /// Development kind (`withdrawal`, `meeting`, ...).
    pub kind: String,
    /// The frame's name when it differs from the kind (`blockade`).
    pub frame: String,
    pub sentence: usize,
    pub trigger: String,
    /// Byte range of the trigger (through a phrasal verb's particle) in the folded
    /// sentence text.
    pub span: (usize, usize),
    /// How the trigger is written: `noun`, `base`, `past`, `ing` (an "-ing" form) or
    /// `noun-or-ing` ("meeting").
    pub form: &'static str,
    /// The trigger's lemma in the lexicon ("withdraw" for "withdrew", "pull out" for
    /// "pulled its forces out").
    pub lemma: String,
    /// The sense filter's margin for the situation sense (absent without a model).
    pub sense: Option<f32>,
    pub status: Option<Status>,
    /// The cue that decided the status (or `form:past` / `form:progressive`).
    pub cue: Option<String>,
    pub modality: Modality,
    /// An explicit resumption ("resumed"): moves a halted development on at once.
    pub resumption: bool,
    pub actor: Option<usize>,
    pub location: Option<usize>,
    /// True when a location preposition or a facility head placed it; a weak location
    /// (any place in the clause) does not open a development of its own.
    pub location_strong: bool,
    /// True when the frame's preposition follows the trigger but names no place the
    /// picture knows ("pull out of the grain deal"): the claim is about somewhere, just not
    /// anywhere a development is placed.
    pub place_unknown: bool,
    /// The place its topic names ("talks on the bases at Hmeimim"): the claim is about
    /// happenings there, so it does not join the report's development of its kind when
    /// that one is placed somewhere else.
    pub topic_place: Option<usize>,
    pub target: Option<usize>,
    pub participants: Vec<usize>,
    /// Identity roles in the frame's order of preference.
    pub identity: Vec<String>,
}

/// What extraction found in one report.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// In text order; `link` fields point into this list.
    pub mentions: Vec<Mention>,
    /// In text order; role fields point into `mentions`.
    pub claims: Vec<ClaimDraft>,
}

/// What the situation needs to know of the gazetteer behind the mentions: the canonical
/// names and kinds of the entries a mention points at, and how names are compared.
pub trait Gazetteer {
    /// How names are compared (the same keyer that made the mentions' keys).
    fn keyer(&self) -> &NameKeyer;
    /// The canonical name of entry `idx`.
    fn gazetteer_name(&self, idx: usize) -> &str;
    /// The kind of entry `idx`.
    fn gazetteer_kind(&self, idx: usize) -> EntityKind;
    /// The country entry `idx` is the capital of.
    fn capital_country(&self, idx: usize) -> Option<usize>;
    /// The country (ISO code) a place or facility known by `names` lies in, and whether it
    /// is that country itself; `None` when no gazetteer of towns is at hand or it does
    /// not know the place.
    fn country_of(&self, _kind: EntityKind, _names: &[&str]) -> Option<(String, bool)> {
        None
    }
}
