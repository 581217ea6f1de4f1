//! Statements that check or rewrite whole tables under their lock: a domain constraint
//! (every column of the type), VACUUM FULL and CLUSTER.

use super::{Advise, Safety, safety};
use crate::lint::rule::{BuiltinRule, LintContext, Severity, Violation};
use crate::risk::Effect;
use crate::sql::guess_kind;
use crate::sql::inspect::has_keyword;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "domain-constraint",
        check: Some(domain_constraint),
        effects: &[(Effect::DomainConstraintValidation, Severity::Warning)],
        description: "ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain's type \
                      in every table while locking them; CREATE DOMAIN with a constraint makes \
                      later changes to the rule that expensive.",
        advise: Advise::Says(
            "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration; or put the check \
             on the tables' columns",
        ),
    },
    Safety {
        id: "table-rewrite-command",
        check: None,
        effects: &[(Effect::TableRewriteCommand, Severity::Critical)],
        description: "VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE \
                      lock.",
        advise: Advise::Says(
            "use pg_repack or pg_squeeze, which rebuild the table without holding the \
                     lock",
        ),
    },
];

/// `ALTER DOMAIN ... ADD CONSTRAINT` (from risk), and `CREATE DOMAIN` with a constraint
/// (advice: later changes to it are that expensive).
fn domain_constraint(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = safety(rule, ctx);
    for (s, _) in ctx.migration_statements() {
        if guess_kind(&s.text) == "create-domain"
            && (has_keyword(&s.text, "check") || has_keyword(&s.text, "constraint"))
        {
            let mut v = rule
                .at(
                    &s.location,
                    "CREATE DOMAIN with a constraint: changing that constraint later checks \
                     every column of the type while locking its tables",
                )
                .suggest("put the CHECK on the tables' columns, where it can be added NOT VALID");
            v.severity = Severity::Info;
            found.push(v);
        }
    }
    found
}
