//! `al-cli demo`: the whole workflow on a slice of the seed data embedded in
//! the binary, so a new user sees it work before bringing their own file.

use anyhow::{Context, Result};

use al_data::InitOptions;

use crate::cli::{DemoArgs, Global};

/// 2 000 rows of the Haensel AMS "Predicting Price" sample (fixtures/price_2k.csv).
const PRICE_SAMPLE: &[u8] = include_bytes!("../../../../fixtures/price_2k.csv");

pub fn run(global: &Global, args: DemoArgs) -> Result<()> {
    let dir = match args.dir {
        Some(d) => {
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
            d
        }
        None => tempfile::Builder::new()
            .prefix("al-demo-")
            .tempdir()
            .context("cannot create a temporary directory")?
            .keep(),
    };
    let data = dir.join("price_2k.csv");
    std::fs::write(&data, PRICE_SAMPLE)
        .with_context(|| format!("cannot write {}", data.display()))?;
    let project = dir.join("demo.db");
    let local = Global {
        project: project.clone(),
        ..global.clone()
    };
    if !global.quiet && !global.json {
        println!("demo: data {} (2 000 rows, target `price`)", data.display());
        println!(
            "$ al-cli -p {} init {} --target price --force",
            project.display(),
            data.display()
        );
    }
    let options = InitOptions {
        force: true,
        ..InitOptions::new(data, project.clone(), "price")
    };
    super::init::report_init(&local, &options, al_data::init(&options)?);
    if !global.quiet && !global.json {
        println!("\n$ al-cli -p {} status", project.display());
    }
    super::status::run(&local)?;
    if !global.quiet && !global.json {
        println!("\nthe demo's files are in {}", dir.display());
    }
    Ok(())
}
