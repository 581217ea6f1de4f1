//! The command entries whose clap arguments stop here: each takes its arguments apart into the
//! plain values the feature module takes, calls it and returns the exit code (`confiture
//! migrate`'s are in `migrate_commands.rs`).

use crate::cli::{
    BuildArgs, CreateRoleArgs, InitArgs, InspectArgs, LintArgs, NewPluginArgs, SyncArgs,
};
use crate::context::Globals;
use crate::error::ExitCode;

/// `confiture init [DIR] [--force]`.
pub fn init(g: &Globals, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let root = g.init_dir(args.dir.as_deref());
    let report = crate::init::create(&root, args.force)?;
    g.out.report(&report);
    Ok(ExitCode::Ok)
}

/// `confiture build [--output FILE] [--apply [--drop-existing] [--mark-migrations-applied]]
/// [--yes]`.
pub async fn build(g: &Globals, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let options = crate::schema::BuildOptions {
        output: args.output.clone(),
        apply: args.apply,
        mark_migrations_applied: args.mark_migrations_applied,
        drop_existing: args.drop_existing,
        yes: args.yes,
    };
    crate::schema::build(g, &options).await
}

/// `confiture sync --from ENV|URL --to ENV|URL [...]`.
pub async fn sync(g: &Globals, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let request = crate::sync::command::SyncRequest {
        from: args.from.clone(),
        to: args.to.clone(),
        tables: args.tables.clone(),
        exclude: args.exclude.clone(),
        schemas: args.schemas.clone(),
        anonymize: args.anonymize,
        anonymization_config: args.anonymization_config.clone(),
        strategies: args.strategies.clone(),
        jobs: args.jobs,
        batch_size: args.batch_size,
        checkpoint: args.checkpoint.clone(),
        resume: args.resume,
        disable_triggers: args.disable_triggers,
        dry_run: args.dry_run,
        allow_protected_target: args.allow_protected_target,
    };
    crate::sync::command::run(g, &request).await
}

/// `confiture lint [PATH]... [--fail-level LEVEL] [--exclude-rules RULES] [--output FILE]
/// [--list-rules] [--rules PATH]...`.
pub fn lint(g: &Globals, args: &LintArgs) -> anyhow::Result<ExitCode> {
    let request = crate::lint::LintRequest {
        paths: args.paths.clone(),
        fail_level: args.fail_level,
        exclude_rules: args.exclude_rules.clone(),
        output: args.output.clone(),
        list_rules: args.list_rules,
        rules: args.rules.clone(),
    };
    crate::lint::run(g, &request)
}

/// `confiture plugins inspect FILE`.
pub fn plugins_inspect(g: &Globals, args: &InspectArgs) -> anyhow::Result<ExitCode> {
    crate::plugins::commands::inspect(g, &args.file)
}

/// `confiture plugins new NAME --kind KIND [--lang LANG] [--dir DIR]`.
pub fn plugins_new(g: &Globals, args: &NewPluginArgs) -> anyhow::Result<ExitCode> {
    let dir = match &args.dir {
        Some(dir) => g.init_dir(Some(dir)),
        None => g.project_dir.join(&args.name),
    };
    let report = crate::plugins::scaffold::scaffold(&dir, &args.name, args.kind, args.lang)?;
    g.out.report(&report);
    Ok(ExitCode::Ok)
}

/// `confiture plugins create-role [ROLE] [--write] [--schema SCHEMA]... [--print-sql]`.
pub async fn plugins_create_role(g: &Globals, args: &CreateRoleArgs) -> anyhow::Result<ExitCode> {
    let request = crate::plugins::role::CreateRoleRequest {
        role: args.role.clone(),
        write: args.write,
        schema: args.schema.clone(),
        print_sql: args.print_sql,
    };
    crate::plugins::role::create_role(g, &request).await
}
