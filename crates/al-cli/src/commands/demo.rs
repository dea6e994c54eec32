//! `al-cli demo`: the whole workflow on a slice of the seed data embedded in
//! the binary, so a new user sees it work before bringing their own file.

use anyhow::{Context, Result};

use al_data::InitOptions;

use clap::Parser;

use crate::cli::{DemoArgs, Global};

/// Parses the simulate flags the demo uses, exactly as a user would type them.
#[derive(Parser)]
struct DemoSimulation {
    #[command(flatten)]
    args: crate::cli::SimulateArgs,
}

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
    let plot = dir.join("curves.svg");
    // The default strategy, the article's committee, the forest's own
    // committee and improved greedy sampling, each against random.
    let strategies = [al_query::DEFAULT_STRATEGY, "committee", "qbc", "igs"];
    if !global.quiet && !global.json {
        println!(
            "\nThe target is known for every row, so it can play the annotator: each strategy starts from 20 labels,\n\
             asks for 10 more per round for 20 rounds, and is compared with random picks (5 repeats); random runs on\n\
             to 420 labels to count how many it needs to reach each strategy's error (\"labels saved\").\n\
             $ al-cli -p {} simulate --strategies {} --repeats 5 --plot {}",
            project.display(),
            strategies.join(","),
            plot.display()
        );
    }
    let args = DemoSimulation::parse_from(
        [
            "simulate",
            "--strategies",
            &strategies.join(","),
            "--repeats",
            "5",
            "--plot",
        ]
        .into_iter()
        .map(String::from)
        .chain([plot.display().to_string()]),
    );
    super::simulate::run(&local, args.args)?;
    if !global.quiet && !global.json {
        println!(
            "\nthe demo's files are in {}: the data, the project demo.db, the learning curves curves.svg",
            dir.display()
        );
        println!("next: the same on your data: al-cli init YOUR.csv --target COLUMN; al-cli query; al-cli label batch-1.csv");
    }
    Ok(())
}
