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

/// A role in words, as the pages name it.
pub fn role_words(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "practice_user" => "Practice user",
        "commissioner" => "Commissioner staff",
        "accountable_officer" => "Accountable officer",
        "lmc_mediator" => "LMC mediator",
        "panel_secretary" => "Panel secretary",
        "panelist" => "Panelist",
        "clinical_board_member" => "Clinical board member",
        "gp_conciliator" => "GP conciliator",
        "lmc_representative" => "LMC representative",
        _ => "Other",
    }
}

/// An organisation's kind in words, as a heading or a table names it.
pub fn kind_words(kind: &str) -> &'static str {
    match kind {
        "practice" => "GP practice",
        "commissioner" => "Commissioning group (ICB)",
        "lmc" => "Local medical committee (LMC)",
        "fhsu" => "NHS Resolution (FHSU)",
        _ => "The service itself",
    }
}

/// An organisation's kind as a sentence names one ("a GP practice").
fn a_kind(kind: &str) -> &'static str {
    match kind {
        "practice" => "a GP practice",
        "commissioner" => "a commissioning group (ICB)",
        "lmc" => "a local medical committee (LMC)",
        "fhsu" => "NHS Resolution (FHSU)",
        _ => "the service itself",
    }
}

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
            let of: Vec<&str> = kinds.iter().map(|k| a_kind(k)).collect();
            out.push((
                "roles",
                format!(
                    "must fit the organisation: {} ({role}) is a role of {}, and this one is {}",
                    role_words(role),
                    of.join(" or "),
                    a_kind(org_kind)
                ),
            ));
        }
    }
    if !panel_roles.is_empty() && !roles.iter().any(|r| r == "panelist") {
        out.push((
            "panel_roles",
            "need the role Panelist (panelist) as well".to_string(),
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
        // Said in words, after the field's name on a page ("Roles must fit …"), with the role's
        // code for API clients.
        assert_eq!(
            fit_problems(&v(&["accountable_officer"]), &[], "lmc")[0].1,
            "must fit the organisation: Accountable officer (accountable_officer) is a role of a \
             commissioning group (ICB), and this one is a local medical committee (LMC)"
        );
        assert_eq!(
            fit_problems(&[], &v(&["gp_conciliator"]), "lmc")[0].1,
            "need the role Panelist (panelist) as well"
        );
    }
}
