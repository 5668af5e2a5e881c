//! The exact command lines of a build and its pushes for docker, podman and
//! buildah, and reading the pushed manifest's digest from what each reports.

use crate::error::{Result, TaskError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
    Buildah,
}

impl Engine {
    pub fn parse(input: &str, value: &str) -> Result<Engine> {
        match value.to_ascii_lowercase().as_str() {
            "docker" => Ok(Engine::Docker),
            "podman" => Ok(Engine::Podman),
            "buildah" => Ok(Engine::Buildah),
            _ => Err(TaskError::input(input, format!("\"{value}\" is not docker, podman or buildah"))),
        }
    }

    pub fn program(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
            Engine::Buildah => "buildah",
        }
    }

    /// podman and buildah do not read `DOCKER_CONFIG`; they are told the file.
    fn takes_authfile(self) -> bool {
        self != Engine::Docker
    }
}

/// A build-arg: `KEY=VALUE`, or `KEY` alone for the builder to take from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildArg {
    pub name: String,
    pub value: Option<String>,
}

/// An image to take build cache from, as given, and its repository alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSource {
    pub reference: String,
    pub repository: String,
}

/// Everything that goes into the build command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub engine: Engine,
    pub dockerfile: String,
    pub context: String,
    pub target: Option<String>,
    pub platform: Option<String>,
    pub build_args: Vec<BuildArg>,
    pub labels: Vec<(String, String)>,
    /// Full references, `repository:tag`.
    pub images: Vec<String>,
    pub cache_from: Vec<CacheSource>,
    /// (id, environment variable) pairs.
    pub secrets: Vec<(String, String)>,
    pub extra_arguments: Vec<String>,
    /// `$DOCKER_CONFIG/config.json`, for podman and buildah.
    pub auth_file: Option<String>,
}

pub fn build_argv(build: &Build) -> Vec<String> {
    let engine = build.engine;
    let mut argv: Vec<String> = match engine {
        Engine::Buildah => vec!["buildah".into(), "bud".into()],
        _ => vec![engine.program().into(), "build".into()],
    };
    let mut option = |name: &str, value: &str| {
        argv.push(name.to_string());
        argv.push(value.to_string());
    };
    option("-f", &build.dockerfile);
    if let Some(auth_file) = build.auth_file.as_deref().filter(|_| engine.takes_authfile()) {
        option("--authfile", auth_file);
    }
    if let Some(target) = &build.target {
        option("--target", target);
    }
    if let Some(platform) = &build.platform {
        option("--platform", platform);
    }
    for arg in &build.build_args {
        match &arg.value {
            Some(value) => option("--build-arg", &format!("{}={value}", arg.name)),
            None => option("--build-arg", &arg.name),
        }
    }
    for (key, value) in &build.labels {
        option("--label", &format!("{key}={value}"));
    }
    for image in &build.images {
        option("-t", image);
    }
    for source in &build.cache_from {
        // podman and buildah take a repository and refuse a tag or digest in it.
        option("--cache-from", if engine == Engine::Docker { &source.reference } else { &source.repository });
    }
    for (id, variable) in &build.secrets {
        option("--secret", &format!("id={id},env={variable}"));
    }
    // buildah uses --cache-from only with --layers (podman builds with layers by default).
    if engine == Engine::Buildah && !build.cache_from.is_empty() {
        argv.push("--layers".into());
    }
    argv.extend(build.extra_arguments.iter().cloned());
    argv.push(build.context.clone());
    argv
}

/// The push of one image; podman and buildah write the digest to `digest_file`.
pub fn push_argv(engine: Engine, image: &str, digest_file: Option<&str>, auth_file: Option<&str>) -> Vec<String> {
    let mut argv = vec![engine.program().to_string(), "push".to_string()];
    if engine != Engine::Docker {
        if let Some(file) = digest_file {
            argv.extend(["--digestfile".to_string(), file.to_string()]);
        }
        if let Some(file) = auth_file {
            argv.extend(["--authfile".to_string(), file.to_string()]);
        }
    }
    argv.push(image.to_string());
    argv
}

/// `sha256:` and 64 lower-case hex digits.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The digest docker reports at the end of a push:
/// `latest: digest: sha256:... size: 528` (the last such line wins).
pub fn digest_from_docker_push(output: &str) -> Option<String> {
    output.lines().rev().find_map(|line| {
        let (_, after) = line.split_once("digest: ")?;
        let candidate = after.split_whitespace().next()?;
        is_digest(candidate).then(|| candidate.to_string())
    })
}

/// The content of a `--digestfile`.
pub fn digest_from_file(text: &str) -> Option<String> {
    let candidate = text.trim();
    is_digest(candidate).then(|| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DIGEST: &str = "sha256:2d0a1e3bfc1b5a0a0e1e9e2f6c7b2b2a3c4d5e6f708192a3b4c5d6e7f8091a2b";

    fn build(engine: Engine) -> Build {
        Build {
            engine,
            dockerfile: "/s/Dockerfile".into(),
            context: "/s".into(),
            target: Some("runtime".into()),
            platform: Some("linux/amd64".into()),
            build_args: vec![
                BuildArg { name: "COMMIT_ID".into(), value: Some("9f86d08".into()) },
                BuildArg { name: "NPM_TOKEN".into(), value: None },
            ],
            labels: vec![("org.opencontainers.image.title".into(), "app".into())],
            images: vec!["r.io/a/app:9f86d08".into(), "r.io/a/app:main".into()],
            cache_from: vec![CacheSource { reference: "r.io/a/app:main".into(), repository: "r.io/a/app".into() }],
            secrets: vec![("nuget".into(), "NUGET_TOKEN".into())],
            extra_arguments: vec!["--pull".into()],
            auth_file: Some("/t/cfg/config.json".into()),
        }
    }

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn docker_build_and_push() {
        assert_eq!(
            build_argv(&build(Engine::Docker)),
            words("docker build -f /s/Dockerfile --target runtime --platform linux/amd64 --build-arg COMMIT_ID=9f86d08 --build-arg NPM_TOKEN --label org.opencontainers.image.title=app -t r.io/a/app:9f86d08 -t r.io/a/app:main --cache-from r.io/a/app:main --secret id=nuget,env=NUGET_TOKEN --pull /s")
        );
        assert_eq!(push_argv(Engine::Docker, "r.io/a/app:main", Some("/d"), Some("/a")), words("docker push r.io/a/app:main"));
    }

    #[test]
    fn podman_and_buildah_get_the_auth_file() {
        let podman = build_argv(&build(Engine::Podman));
        assert_eq!(&podman[..6], &words("podman build -f /s/Dockerfile --authfile /t/cfg/config.json")[..]);
        let buildah = build_argv(&Build { auth_file: None, ..build(Engine::Buildah) });
        assert_eq!(&buildah[..4], &words("buildah bud -f /s/Dockerfile")[..]);
        assert!(!buildah.contains(&"--authfile".to_string()));
        assert_eq!(
            push_argv(Engine::Buildah, "r.io/a/app:main", Some("/w/digest-1"), Some("/t/cfg/config.json")),
            words("buildah push --digestfile /w/digest-1 --authfile /t/cfg/config.json r.io/a/app:main")
        );
    }

    #[test]
    fn cache_sources_suit_each_engine() {
        let cache = |engine| {
            let argv = build_argv(&build(engine));
            let at = argv.iter().position(|a| a == "--cache-from").unwrap();
            (argv[at + 1].clone(), argv.contains(&"--layers".to_string()))
        };
        assert_eq!(cache(Engine::Docker), ("r.io/a/app:main".to_string(), false));
        assert_eq!(cache(Engine::Podman), ("r.io/a/app".to_string(), false));
        assert_eq!(cache(Engine::Buildah), ("r.io/a/app".to_string(), true));
        let without = build_argv(&Build { cache_from: vec![], ..build(Engine::Buildah) });
        assert!(!without.contains(&"--layers".to_string()));
    }

    #[test]
    fn digests_from_each_engine() {
        let output = format!("The push refers to repository [r.io/a/app]\n5f70bf18a086: Pushed\nmain: digest: {DIGEST} size: 528\n");
        assert_eq!(digest_from_docker_push(&output).as_deref(), Some(DIGEST));
        assert_eq!(digest_from_docker_push("digest: sha256:short size: 1"), None);
        assert_eq!(digest_from_file(&format!("{DIGEST}\n")).as_deref(), Some(DIGEST));
        assert_eq!(digest_from_file("sha256:XYZ"), None);
    }

    proptest! {
        /// Whatever the values, each one stays a single argument right after its flag.
        #[test]
        fn values_never_split_or_merge(value in "\\PC{0,20}", key in "[a-z.]{1,10}") {
            let mut b = build(Engine::Docker);
            b.labels = vec![(key.clone(), value.clone())];
            let argv = build_argv(&b);
            let at = argv.iter().position(|a| a == "--label").unwrap();
            prop_assert_eq!(&argv[at + 1], &format!("{key}={value}"));
            prop_assert_eq!(argv.last().unwrap(), "/s");
        }

        /// The digest docker reports last is found, whatever progress output surrounds it.
        #[test]
        fn the_reported_digest_is_found_among_noise(
            before in "[ -~\n]{0,200}",
            // No ':' after it, so no later "digest: " line.
            after in "[ -9;-~\n]{0,200}",
            hex in "[0-9a-f]{64}",
        ) {
            let digest = format!("sha256:{hex}");
            let output = format!("{before}\nmain: digest: {digest} size: 528\n{after}");
            prop_assert_eq!(digest_from_docker_push(&output), Some(digest));
        }
    }
}
