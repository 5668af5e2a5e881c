#![no_main]
//! MsrBuildPush's whole plan from free-form inputs: NUL-separated fields are
//! the tags template, the build-args (templates in values), the labels, the
//! extra arguments, the branch, and the Dockerfile text.
use libfuzzer_sys::fuzz_target;
use mke_tasks::inputs::Inputs;
use mke_tasks::labels::PipelineInfo;
use mke_tasks::msr_build_push::{plan, PlanRequest, Source};
use mke_tasks::shell_words::split;
use mke_tasks::template::BuildInfo;

const REPOSITORY: &str = "msr.example.com/web/app";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\0');
    let mut field = || fields.next().unwrap_or("");
    let (tags, build_args, labels, arguments, branch, dockerfile) = (field(), field(), field(), field(), field(), field());
    let request = PlanRequest {
        inputs: Inputs::from_pairs([
            ("repository", REPOSITORY),
            ("tags", tags),
            ("buildArgs", build_args),
            ("labels", labels),
            ("arguments", arguments),
            ("commitBuildArg", "COMMIT_ID"),
            ("engine", if data.len() % 2 == 0 { "docker" } else { "buildah" }),
        ]),
        build_info: BuildInfo {
            source_version: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b".into()),
            source_branch: Some(branch.into()),
            build_id: Some("1234".into()),
            build_number: Some("20261203.1".into()),
            now_epoch_seconds: 1_764_790_853,
        },
        source: Source {
            dockerfile: "/s/Dockerfile".into(),
            context: "/s".into(),
            auth_file: None,
            environment_build_args: Vec::new(),
        },
        dockerfile_text: Some(dockerfile.into()),
        dockerfile_error: None,
        environment_build_args_set: None,
        work_directory: "/t/msr-build-push-1".into(),
        auth_file_exists: false,
        source_date_epoch: None,
        pipeline: PipelineInfo::default(),
    };
    let Ok(plan) = plan(request) else { return };
    assert!(!plan.report.tags.is_empty());
    for tag in &plan.report.tags {
        let b = tag.as_bytes();
        assert!((1..=128).contains(&b.len()) && (b[0].is_ascii_alphanumeric() || b[0] == b'_'), "{tag:?}");
        assert!(b.iter().all(|&c| c.is_ascii_alphanumeric() || b"_.-".contains(&c)), "{tag:?}");
    }
    let argv = &plan.build.argv;
    assert_eq!(argv.last().map(String::as_str), Some("/s"), "the context comes last");
    // The user's `arguments` go in as they are (a `-t` among them too), just before the context.
    let extra = split("arguments", arguments).expect("the plan accepted them");
    let planned = argv.len() - 1 - extra.len();
    assert_eq!(argv[planned..argv.len() - 1], extra[..]);
    let argv = &argv[..planned];
    let after = |flag: &str| argv.windows(2).filter(|w| w[0] == flag).map(|w| w[1].clone()).collect::<Vec<_>>();
    let images: Vec<String> = plan.report.tags.iter().map(|t| format!("{REPOSITORY}:{t}")).collect();
    assert_eq!(after("-t"), images);
    for arg in after("--build-arg") {
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        assert!(name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'), "{arg:?}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{arg:?}");
    }
    for (push, image) in plan.pushes.iter().zip(&images) {
        assert_eq!(push.command.argv.last(), Some(image));
    }
});
