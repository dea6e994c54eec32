//! The one place where plugins are wired: the built-in strategies, plugin
//! crates of the workspace (one line each), and external programs for
//! strategies, models and oracles (`al-KIND-NAME` on PATH, or registered in
//! the project with `al-cli plugins add`). See docs/plugins.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use al_data::Project;
use al_models::params::split_name;
use al_models::{Fit, ModelSpec};
use al_plugin::{ExternalModel, ExternalOracle, ExternalStrategy, PluginCommand};
use al_query::{Registry, Strategy};

use al_query::Source;

use crate::Settings;

/// A plugin registered in the project.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registered {
    pub name: String,
    pub kind: String,
    pub cmd: String,
}

pub fn registered(project: &Project) -> Result<Vec<Registered>> {
    Ok(match project.meta("plugins")? {
        Some(text) => serde_json::from_str(&text)?,
        None => vec![],
    })
}

/// The built-in strategies and those of the plugin crates linked in: one
/// `with_crate` line per crate.
pub fn linked_strategies() -> Registry {
    let registry = Registry::builtin();
    #[cfg(feature = "example-plugin")]
    let registry = registry.with_crate("al-plugin-example", al_plugin_example::STRATEGIES);
    registry
}

/// Models a front end holds in its own process (a Python user's
/// estimator), by name: resolved before any plugin, by every flow that
/// takes a model spec. Their names start with [`LOCAL_PREFIX`], so that a
/// project's records tell them apart and `al-cli` can say it cannot run
/// them.
#[derive(Clone, Default)]
pub struct LocalModels(Vec<(String, Arc<dyn Fit>)>);

/// How the name of a model held in the front end's process starts
/// (`python.lightgbm.sklearn.LGBMRegressor`).
pub const LOCAL_PREFIX: &str = "python.";

impl LocalModels {
    /// Adds `model` under `name` (which must start with [`LOCAL_PREFIX`]
    /// and hold no `:`), replacing a model of that name.
    pub fn insert(&mut self, name: &str, model: Arc<dyn Fit>) -> Result<()> {
        if !name.starts_with(LOCAL_PREFIX) || name.contains(':') || name.trim() != name {
            bail!("a model held in the front end's process is named {LOCAL_PREFIX}MODULE.CLASS, without ':'; got {name:?}");
        }
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_string(), model));
        Ok(())
    }

    fn get(&self, name: &str) -> Option<Arc<dyn Fit>> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.clone())
    }
}

impl std::fmt::Debug for LocalModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

/// Whether a model spec names a model held in a front end's process (a
/// round made from Python with the user's own estimator).
pub fn is_local_model(spec: &str) -> bool {
    spec.starts_with(LOCAL_PREFIX)
}

/// What this invocation can run: linked strategies, then strategies and
/// models of plugins registered in the project or on PATH, by name; the
/// front end's own models (`local`) first.
pub fn registry(
    settings: &Settings,
    project: Option<&Project>,
    local: &LocalModels,
) -> Result<Registry> {
    let registered = match project {
        Some(p) => registered(p)?,
        None => vec![],
    };
    let timeout = settings.plugin_timeout;
    let models = registered.clone();
    let local = local.clone();
    Ok(linked_strategies()
        .with_external(Box::new(move |spec| {
            let plugin = plugin_command(&registered, "strategy", split_name(spec).0, timeout)?;
            Some(Ok(
                Box::new(ExternalStrategy { plugin }) as Box<dyn Strategy>
            ))
        }))
        .with_models(Box::new(move |name| {
            if let Some(model) = local.get(name) {
                return Some(model);
            }
            if is_local_model(name) {
                return None;
            }
            let plugin = plugin_command(&models, "model", name, timeout)?;
            Some(Arc::new(ExternalModel { plugin }) as Arc<dyn Fit>)
        })))
}

/// The model spec a command uses: `--model` when given, else the project's
/// model (`evaluate --models ... --set-default`), else `forest`.
pub fn model_text(project: &Project, given: Option<&str>) -> Result<String> {
    if let Some(text) = given {
        return Ok(text.to_string());
    }
    Ok(project
        .default_model()?
        .unwrap_or_else(|| DEFAULT_MODEL.to_string()))
}

/// The model every command uses when neither `--model` nor the project says.
pub const DEFAULT_MODEL: &str = "forest";

/// A model spec resolved as every command resolves it (plugins included).
pub fn model_spec(
    settings: &Settings,
    project: &Project,
    given: Option<&str>,
) -> Result<ModelSpec> {
    model_spec_with(settings, project, given, &LocalModels::default())
}

/// [`model_spec`] with the front end's own models.
pub fn model_spec_with(
    settings: &Settings,
    project: &Project,
    given: Option<&str>,
    local: &LocalModels,
) -> Result<ModelSpec> {
    let text = model_text(project, given)?;
    match registry(settings, Some(project), local)?.model(&text) {
        Err(_) if is_local_model(&text) => bail!(
            "model {text:?} was the user's own Python estimator; pass it again as model=... from Python (al-cli cannot run it), or give a model al knows (see `al-cli models`)"
        ),
        other => Ok(other?),
    }
}

/// The oracle plugin called `name`: registered in the project, or
/// `al-oracle-NAME` on PATH.
pub fn oracle(settings: &Settings, project: &Project, name: &str) -> Result<ExternalOracle> {
    match plugin_command(&registered(project)?, "oracle", name, settings.plugin_timeout) {
        Some(plugin) => Ok(ExternalOracle { plugin }),
        None => bail!("no oracle {name:?}: use knn, register one with `al-cli plugins add {name} --kind oracle --cmd ...`, or put al-oracle-{name} on PATH"),
    }
}

/// The plugin of this kind and name: registered in the project (run with
/// `sh -c`), else `al-KIND-NAME` on PATH.
fn plugin_command(
    registered: &[Registered],
    kind: &'static str,
    name: &str,
    timeout: Duration,
) -> Option<PluginCommand> {
    let command = registered
        .iter()
        .find(|p| p.name == name && p.kind == kind)
        .map(|p| vec!["sh".to_string(), "-c".to_string(), p.cmd.clone()])
        .or_else(|| on_path(&format!("al-{kind}-{name}")).map(|p| vec![p.display().to_string()]))?;
    Some(PluginCommand {
        kind,
        name: name.to_string(),
        command,
        timeout,
    })
}

/// A plugin may not take the name of something built in or linked of its
/// kind: the built-in one would always win, and the plugin never run.
fn check_name_is_free(name: &str, kind: &str) -> Result<()> {
    let taken = match kind {
        "strategy" => linked_strategies().find(name).is_some(),
        "model" => al_models::spec::model_info(name).is_some(),
        _ => name == "knn",
    };
    if taken {
        bail!("{name:?} is already a built-in {kind}; choose another name");
    }
    Ok(())
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

fn on_path(program: &str) -> Option<PathBuf> {
    path_dirs()
        .into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `(kind, name, path)` of every `al-{strategy,model,oracle}-NAME` on PATH.
fn path_plugins() -> Vec<(String, String, PathBuf)> {
    let mut found = Vec::new();
    for dir in path_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            for kind in ["strategy", "model", "oracle"] {
                if let Some(name) = file.strip_prefix(&format!("al-{kind}-")) {
                    if !found
                        .iter()
                        .any(|(k, n, _): &(String, String, PathBuf)| k == kind && n == name)
                    {
                        found.push((kind.to_string(), name.to_string(), e.path()));
                    }
                }
            }
        }
    }
    found.sort();
    found
}

/// Registers an external program as a plugin of this project (replacing
/// one of the same kind and name), in one transaction.
pub fn register(project: &mut Project, name: &str, kind: &str, cmd: &str) -> Result<Registered> {
    if !["strategy", "model", "oracle"].contains(&kind) {
        bail!("--kind {kind:?}: use strategy, model or oracle");
    }
    check_name_is_free(name, kind)?;
    let mut list = registered(project)?;
    list.retain(|p| !(p.name == name && p.kind == kind));
    let plugin = Registered {
        name: name.to_string(),
        kind: kind.to_string(),
        cmd: cmd.to_string(),
    };
    list.push(plugin.clone());
    let text = serde_json::to_string(&list)?;
    project.write(|tx| al_data::store::set_meta(tx, "plugins", &text))?;
    Ok(plugin)
}

/// One plugin that can run here, and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct PluginEntry {
    pub kind: String,
    pub name: String,
    pub source: String,
}

/// Built-in, linked, PATH and (given a project) registered plugins.
pub fn list(project: Option<&Project>) -> Result<Vec<PluginEntry>> {
    let entry = |kind: &str, name: &str, source: String| PluginEntry {
        kind: kind.into(),
        name: name.into(),
        source,
    };
    let mut rows = Vec::new();
    for (s, source) in linked_strategies().entries() {
        rows.push(entry("strategy", s.name, source_text(*source)));
    }
    for m in al_models::MODELS {
        rows.push(entry("model", m.name, "built-in".into()));
    }
    for (kind, name, path) in path_plugins() {
        rows.push(entry(&kind, &name, format!("PATH {}", path.display())));
    }
    if let Some(p) = project {
        for r in registered(p)? {
            rows.push(entry(&r.kind, &r.name, format!("project: {}", r.cmd)));
        }
    }
    Ok(rows)
}

/// Where a strategy comes from, as `plugins list` and `strategies --json` say.
pub fn source_text(source: Source) -> String {
    match source {
        Source::BuiltIn => "built-in".into(),
        Source::Crate(name) => format!("crate {name}"),
    }
}
