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
    /// Every role but `Admin`: the people who take part in cases.
    pub const PARTICIPANTS: [Role; 6] = [
        Role::PracticeUser,
        Role::Commissioner,
        Role::AccountableOfficer,
        Role::LmcMediator,
        Role::PanelSecretary,
        Role::Panelist,
    ];

    /// [`Role::PARTICIPANTS`] and `Admin`.
    pub const ALL: [Role; 7] = {
        let mut all = [Role::Admin; 7];
        let mut i = 0;
        while i < Role::PARTICIPANTS.len() {
            all[i] = Role::PARTICIPANTS[i];
            i += 1;
        }
        all
    };

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

/// The organisation kind each role needs (roles not listed may belong to any organisation).
pub const ROLE_KINDS: [(&str, &[&str]); 4] = [
    ("practice_user", &["practice"]),
    ("commissioner", &["commissioner"]),
    ("accountable_officer", &["commissioner"]),
    ("lmc_mediator", &["lmc"]),
];

/// Every way `roles` and `panel_roles` do not fit a user of an organisation of kind
/// `org_kind`, as (field, message): the same check whether a user is created, changed or
/// moved, so that a user's roles always match their organisation's kind.
pub fn fit_problems(
    roles: &[String],
    panel_roles: &[String],
    org_kind: &str,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (role, kinds) in ROLE_KINDS {
        if roles.iter().any(|r| r == role) && !kinds.contains(&org_kind) {
            out.push((
                "roles",
                format!(
                    "{role} must belong to a {} organisation (this one is a {org_kind})",
                    kinds.join("/")
                ),
            ));
        }
    }
    if !panel_roles.is_empty() && !roles.iter().any(|r| r == "panelist") {
        out.push((
            "panel_roles",
            "panel roles need the role panelist".to_string(),
        ));
    }
    out
}

/// Organisation kinds.
pub const ORG_KINDS: [&str; 4] = ["practice", "commissioner", "lmc", "fhsu"];

#[cfg(test)]
mod tests {
    use super::fit_problems;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn roles_must_fit_the_organisation_kind() {
        assert!(fit_problems(&v(&["practice_user"]), &[], "practice").is_empty());
        assert_eq!(
            fit_problems(&v(&["lmc_mediator"]), &[], "practice")[0].0,
            "roles"
        );
        assert_eq!(
            fit_problems(&v(&["practice_user"]), &v(&["gp_conciliator"]), "practice")[0].0,
            "panel_roles"
        );
        assert!(fit_problems(&v(&["panelist"]), &v(&["gp_conciliator"]), "lmc").is_empty());
        assert_eq!(
            fit_problems(&v(&["commissioner", "lmc_mediator"]), &[], "practice").len(),
            2
        );
    }
}
