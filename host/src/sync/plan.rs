//! Grouping and ordering: tables linked by foreign keys are loaded together, parents first.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::Failure;
use crate::sync::catalog::{Catalog, TableName};

/// How a group's load gets past foreign keys that form a cycle, and whether target triggers
/// fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleMode {
    /// No cycle: loading parents first satisfies every foreign key.
    None,
    /// `SET CONSTRAINTS ALL DEFERRED`: the cycle's deferrable constraints are checked at commit.
    DeferConstraints,
    /// `SET LOCAL session_replication_role = replica` (`--disable-triggers`): neither foreign
    /// keys nor the target's triggers fire.
    ReplicaRole,
}

/// A sequence set after its group's load, past the values of every column that uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSequence {
    /// The sequence.
    pub sequence: TableName,
    /// The copied columns that draw from it: `(table, column)`.
    pub uses: Vec<(TableName, String)>,
}

/// Tables loaded in one target transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The tables in load order: parents before children.
    pub tables: Vec<TableName>,
    /// How foreign key cycles among them are handled.
    pub cycle_mode: CycleMode,
    /// Sum of the tables' estimated rows.
    pub estimated_rows: u64,
    /// Sum of the tables' sizes in pages.
    pub pages: u64,
    /// The sequences its tables use, set after the load.
    pub sequences: Vec<GroupSequence>,
    /// What its `TRUNCATE` names: `ONLY` each table, or a partitioned table whose every leaf
    /// is in the group (a foreign key on a partitioned table lets it be truncated only whole).
    #[serde(skip)]
    pub truncate: Vec<String>,
}

/// The groups of a sync, largest first.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Connected components of the foreign key graph.
    pub groups: Vec<Group>,
}

/// Groups the tables of `catalog` and orders each group: tables linked by foreign keys, the
/// leaf partitions of one partitioned table, and tables sharing a sequence are loaded together.
/// With `disable_triggers`, every group loads in replica mode (no triggers, no foreign key
/// checks); without it, a cycle of foreign keys that are not all deferrable is an error.
pub fn plan(catalog: &Catalog, disable_triggers: bool) -> anyhow::Result<Plan> {
    let n = catalog.tables.len();
    let index: BTreeMap<&TableName, usize> = catalog
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (&t.name, i))
        .collect();
    // Edges parent -> child (self-references need nothing: COPY checks them at statement end).
    let mut children: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut strict_children: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut components = UnionFind::new(n);
    for fk in catalog.copied_foreign_keys() {
        let (p, c) = (index[&fk.parent], index[&fk.child]);
        components.union(p, c);
        if p != c {
            children[p].insert(c);
            if !fk.deferrable {
                strict_children[p].insert(c);
            }
        }
    }
    // Leaves of one partitioned table, and users of one sequence, share a transaction too.
    let mut first_leaf: BTreeMap<&TableName, usize> = BTreeMap::new();
    for (i, table) in catalog.tables.iter().enumerate() {
        if let Some(root) = &table.partition_root {
            let first = *first_leaf.entry(root).or_insert(i);
            components.union(first, i);
        }
    }
    let mut first_user: BTreeMap<&TableName, usize> = BTreeMap::new();
    let mut sequence_users: BTreeMap<&TableName, Vec<(TableName, String)>> = BTreeMap::new();
    for used in &catalog.sequences {
        if let Some(&t) = index.get(&used.table) {
            let first = *first_user.entry(&used.sequence).or_insert(t);
            components.union(first, t);
            sequence_users
                .entry(&used.sequence)
                .or_default()
                .push((used.table.clone(), used.column.clone()));
        }
    }
    let sccs = strongly_connected(&children);
    let mut scc_of = vec![0; n];
    for (i, scc) in sccs.iter().enumerate() {
        for &t in scc {
            scc_of[t] = i;
        }
    }
    let mut modes = vec![CycleMode::None; sccs.len()];
    let mut ordered_sccs: Vec<Vec<usize>> = Vec::with_capacity(sccs.len());
    let mut problems = Vec::new();
    for (i, scc) in sccs.iter().enumerate() {
        if scc.len() == 1 {
            ordered_sccs.push(scc.clone());
            continue;
        }
        // Deferred constraints are checked at commit; the others at the end of each COPY, so
        // the strict edges inside the cycle must still order its tables.
        match topological(scc, &strict_children) {
            Some(order) => {
                modes[i] = CycleMode::DeferConstraints;
                ordered_sccs.push(order);
            }
            None if disable_triggers => {
                modes[i] = CycleMode::ReplicaRole;
                ordered_sccs.push(scc.clone());
            }
            None => {
                let members: BTreeSet<&TableName> =
                    scc.iter().map(|&t| &catalog.tables[t].name).collect();
                let strict: Vec<String> = catalog
                    .copied_foreign_keys()
                    .filter(|fk| {
                        !fk.deferrable
                            && fk.parent != fk.child
                            && members.contains(&fk.parent)
                            && members.contains(&fk.child)
                    })
                    .map(|fk| format!("{} on {}", fk.name, fk.child))
                    .collect();
                let names: Vec<String> = members.iter().map(|t| t.to_string()).collect();
                problems.push(format!(
                    "tables {} form a foreign key cycle whose constraints {} are not DEFERRABLE",
                    names.join(", "),
                    strict.join(", ")
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Failure::config(problems.join("; "))
            .hint(
                "make those constraints DEFERRABLE (ALTER TABLE ... ALTER CONSTRAINT ... \
                 DEFERRABLE), pass --disable-triggers (replica mode: needs a superuser or, on \
                 PostgreSQL 15+, SET on session_replication_role), or exclude one of the tables",
            )
            .into());
    }
    // Order the cycles' condensation parents first, then split it into groups.
    let mut scc_children: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); sccs.len()];
    for (p, cs) in children.iter().enumerate() {
        for &c in cs {
            if scc_of[p] != scc_of[c] {
                scc_children[scc_of[p]].insert(scc_of[c]);
            }
        }
    }
    let all: Vec<usize> = (0..sccs.len()).collect();
    let scc_order = topological(&all, &scc_children).expect("the condensation is acyclic");
    let mut groups: BTreeMap<usize, Group> = BTreeMap::new();
    for s in scc_order {
        for &t in &ordered_sccs[s] {
            let table = &catalog.tables[t];
            let group = groups.entry(components.find(t)).or_insert(Group {
                tables: Vec::new(),
                cycle_mode: CycleMode::None,
                estimated_rows: 0,
                pages: 0,
                sequences: Vec::new(),
                truncate: Vec::new(),
            });
            group.tables.push(table.name.clone());
            group.cycle_mode = group.cycle_mode.max(modes[s]);
            group.estimated_rows += table.estimated_rows;
            group.pages += table.pages;
        }
    }
    for (sequence, uses) in sequence_users {
        let table = index[&uses[0].0];
        let group = groups.get_mut(&components.find(table)).expect("grouped");
        group.sequences.push(GroupSequence {
            sequence: sequence.clone(),
            uses,
        });
    }
    let mut groups: Vec<Group> = groups
        .into_values()
        .map(|mut g| {
            if disable_triggers {
                g.cycle_mode = CycleMode::ReplicaRole;
            }
            g.truncate = truncate_list(catalog, &g.tables);
            g
        })
        .collect();
    groups.sort_by(|a, b| b.pages.cmp(&a.pages).then_with(|| a.tables.cmp(&b.tables)));
    Ok(Plan { groups })
}

/// The `TRUNCATE` list of a group's tables: a partitioned table whose every leaf is among them
/// is named whole, every other table `ONLY`.
fn truncate_list(catalog: &Catalog, tables: &[TableName]) -> Vec<String> {
    let mut list = Vec::new();
    for name in tables {
        let root = catalog
            .table(name)
            .and_then(|t| t.partition_root.as_ref())
            .filter(|root| {
                catalog
                    .source_tables
                    .get(*root)
                    .is_some_and(|s| s.leaves.iter().all(|leaf| tables.contains(leaf)))
            });
        let item = match root {
            Some(root) => root.quoted(),
            None => format!("ONLY {}", name.quoted()),
        };
        if !list.contains(&item) {
            list.push(item);
        }
    }
    list
}

/// `nodes` ordered so that every edge of `children` between two of them goes forward (ties in
/// node order); `None` when those edges form a cycle.
fn topological(nodes: &[usize], children: &[BTreeSet<usize>]) -> Option<Vec<usize>> {
    let members: BTreeSet<usize> = nodes.iter().copied().collect();
    let mut incoming: BTreeMap<usize, usize> = nodes.iter().map(|&n| (n, 0)).collect();
    for &n in nodes {
        for c in children[n].intersection(&members) {
            *incoming.get_mut(c).expect("member") += 1;
        }
    }
    let mut ready: BTreeSet<usize> = incoming
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(n) = ready.pop_first() {
        order.push(n);
        for c in children[n].intersection(&members) {
            let count = incoming.get_mut(c).expect("member");
            *count -= 1;
            if *count == 0 {
                ready.insert(*c);
            }
        }
    }
    (order.len() == nodes.len()).then_some(order)
}

/// Strongly connected components (Tarjan's algorithm, iterative), each sorted.
fn strongly_connected(children: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = children.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut sccs = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, its children still to visit)
        let mut work: Vec<(usize, Vec<usize>)> = Vec::new();
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        work.push((root, children[root].iter().rev().copied().collect()));
        while let Some((v, pending)) = work.last_mut() {
            let v = *v;
            if let Some(w) = pending.pop() {
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, children[w].iter().rev().copied().collect()));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _)) = work.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                scc.sort_unstable();
                sccs.push(scc);
            }
        }
    }
    sccs
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind((0..n).collect())
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.0[a.max(b)] = a.min(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::catalog::ForeignKey;
    use crate::sync::testing::table;

    fn fk(child: &str, parent: &str, deferrable: bool) -> ForeignKey {
        ForeignKey {
            name: format!("{child}_{parent}_fk"),
            child: TableName::new("public", child),
            parent: TableName::new("public", parent),
            deferrable,
            child_columns: vec![format!("{parent}_id")],
            parent_columns: vec!["id".into()],
        }
    }

    fn names(group: &Group) -> Vec<&str> {
        group.tables.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn groups_are_components_in_parent_order() {
        let catalog = Catalog {
            tables: ["a_grandchild", "b_child", "c_parent", "lonely", "selfref"]
                .iter()
                .map(|n| table(n, if *n == "lonely" { 100 } else { 1 }))
                .collect(),
            foreign_keys: vec![
                fk("a_grandchild", "b_child", false),
                fk("b_child", "c_parent", false),
                fk("a_grandchild", "c_parent", false),
                fk("selfref", "selfref", false),
            ],
            ..Catalog::default()
        };
        let plan = plan(&catalog, false).unwrap();
        let groups: Vec<Vec<&str>> = plan.groups.iter().map(names).collect();
        assert_eq!(
            groups,
            vec![
                vec!["lonely"],
                vec!["c_parent", "b_child", "a_grandchild"],
                vec!["selfref"]
            ]
        );
        assert!(plan.groups.iter().all(|g| g.cycle_mode == CycleMode::None));
    }

    #[test]
    fn cycles_need_deferrable_constraints_or_the_replica_role() {
        let tables = || ["x", "y", "z"].iter().map(|n| table(n, 1)).collect();
        let deferrable = Catalog {
            tables: tables(),
            foreign_keys: vec![fk("x", "y", true), fk("y", "x", false), fk("z", "y", false)],
            ..Catalog::default()
        };
        let plan = plan(&deferrable, false).unwrap();
        assert_eq!(names(&plan.groups[0]), vec!["x", "y", "z"]);
        assert_eq!(plan.groups[0].cycle_mode, CycleMode::DeferConstraints);

        let strict = Catalog {
            tables: tables(),
            foreign_keys: vec![fk("x", "y", false), fk("y", "x", false)],
            ..Catalog::default()
        };
        let err = super::plan(&strict, false).unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&err),
            crate::error::ExitCode::Config
        );
        let err = format!("{err:#}");
        assert!(err.contains("public.x, public.y"), "{err}");
        assert!(err.contains("x_y_fk on public.x"), "{err}");
        assert!(err.contains("not DEFERRABLE"), "{err}");
        let plan = super::plan(&strict, true).unwrap();
        assert_eq!(plan.groups[0].cycle_mode, CycleMode::ReplicaRole);
    }
}
