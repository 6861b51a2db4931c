//! User roles and panel roles, as the API spells them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PracticeUser,
    Commissioner,
    AccountableOfficer,
    LmcMediator,
    PanelSecretary,
    Panelist,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::PracticeUser,
        Role::Commissioner,
        Role::AccountableOfficer,
        Role::LmcMediator,
        Role::PanelSecretary,
        Role::Panelist,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PracticeUser => "practice_user",
            Role::Commissioner => "commissioner",
            Role::AccountableOfficer => "accountable_officer",
            Role::LmcMediator => "lmc_mediator",
            Role::PanelSecretary => "panel_secretary",
            Role::Panelist => "panelist",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

pub const PANEL_ROLES: [&str; 3] = [
    "clinical_board_member",
    "gp_conciliator",
    "lmc_representative",
];

/// Roles are stored as a comma-separated list; unknown entries are ignored.
pub fn parse_list(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|p| Role::parse(p.trim())).collect()
}

pub fn join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items.into_iter().collect::<Vec<_>>().join(",")
}

pub fn split(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Organisation kinds.
pub const ORG_KINDS: [&str; 4] = ["practice", "commissioner", "lmc", "fhsu"];
