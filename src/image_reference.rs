//! Image names and tags, checked against the distribution reference grammar
//! (github.com/distribution/reference) so that a bad name fails before a build.

use crate::error::{Result, TaskError};

/// The longest name the grammar allows.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A repository without tag or digest: `msr.example.com:5000/web/app`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    pub domain: Option<String>,
    pub path: String,
}

impl Repository {
    /// The last path segment (`app`), the image's title.
    pub fn title(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub fn with_tag(&self, tag: &str) -> String {
        format!("{}:{tag}", self.name)
    }
}

/// Checks a repository name; `input` names the task input in errors.
pub fn parse_repository(input: &str, value: &str) -> Result<Repository> {
    let invalid = |why: String| TaskError::input(input, format!("\"{value}\" is not a valid image name: {why}"));
    if value.contains("://") {
        return Err(invalid("leave out the scheme, as in msr.example.com/web/app".into()));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(invalid("it contains white space".into()));
    }
    if value.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(invalid(format!("it is longer than {NAME_TOTAL_LENGTH_MAX} characters")));
    }
    let (domain, path) = match value.split_once('/') {
        // As docker decides: a first component with '.', ':' or upper case, or `localhost`, is a registry.
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, value),
    };
    if let Some((_, digest)) = path.split_once('@') {
        return Err(invalid(format!("leave out the digest @{digest}; the task pushes by tag")));
    }
    if let Some((_, tag)) = path.rsplit('/').next().and_then(|last| last.split_once(':')) {
        return Err(invalid(format!("leave out the tag :{tag} and list tags in the 'tags' input")));
    }
    if let Some(domain) = domain {
        check_domain(domain).map_err(invalid)?;
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "repository names must be lower case ({}{})",
            domain.map(|d| format!("{d}/")).unwrap_or_default(),
            path.to_ascii_lowercase()
        )));
    }
    for component in path.split('/') {
        check_path_component(component).map_err(invalid)?;
    }
    Ok(Repository { name: value.to_string(), domain: domain.map(str::to_string), path: path.to_string() })
}

fn check_domain(domain: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or("the IPv6 address has no closing ']'")?;
        if v6.is_empty() || !v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(format!("\"[{v6}]\" is not an IPv6 address"));
        }
        (None, after.strip_prefix(':').map(Some).unwrap_or(if after.is_empty() { None } else { Some("") }))
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        for label in host.split('.') {
            let valid = !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !valid {
                return Err(format!("the registry host \"{host}\" is not a valid host name"));
            }
        }
    }
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("the registry port \"{port}\" is not a number"));
        }
    }
    Ok(())
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn check_path_component(component: &str) -> std::result::Result<(), String> {
    let why = || {
        format!(
            "the path component \"{component}\" must be lower-case letters and digits, \
             separated by '.', '_', '__' or '-', starting and ending with a letter or digit"
        )
    };
    if component.is_empty() {
        return Err("it has an empty path component (\"//\" or a '/' at either end)".into());
    }
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(why());
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return Err(why());
        }
    }
    Ok(())
}

/// An image reference that may carry a tag or a digest (`cacheFrom`):
/// checks it and returns its repository part.
pub fn parse_image<'a>(input: &str, value: &'a str) -> Result<&'a str> {
    let (named, digest) = match value.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (value, None),
    };
    let last_slash = named.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match named[last_slash..].split_once(':') {
        Some((_, tag)) => (&named[..named.len() - tag.len() - 1], Some(tag)),
        None => (named, None),
    };
    parse_repository(input, repository)?;
    if let Some(tag) = tag {
        check_tag(input, tag)?;
    }
    if let Some(digest) = digest.filter(|d| !crate::build_plan::is_digest(d)) {
        return Err(TaskError::input(input, format!("\"{value}\" has \"{digest}\" where a sha256: digest belongs")));
    }
    Ok(repository)
}

/// Checks one tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(input: &str, tag: &str) -> Result<()> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let valid = tag.len() <= 128
        && tag.starts_with(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(TaskError::input(
            input,
            format!(
                "\"{tag}\" is not a valid tag: a tag is 1 to 128 letters, digits, '_', '.' and '-', \
                 and does not start with '.' or '-'"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn error(value: &str) -> String {
        parse_repository("repository", value).unwrap_err().to_string()
    }

    #[test]
    fn accepts_the_names_registries_use() {
        for name in [
            "msr.example.com/web/techorama",
            "msr.example.com:5443/web/app",
            "127.0.0.1:5000/a/b",
            "localhost/app",
            "[::1]:5000/app",
            "library/alpine",
            "alpine",
            "my-registry.io/team__x/a.b_c--d",
        ] {
            assert!(parse_repository("repository", name).is_ok(), "{name}");
        }
        let r = parse_repository("repository", "msr.example.com/web/techorama").unwrap();
        assert_eq!((r.domain.as_deref(), r.path.as_str(), r.title()), (Some("msr.example.com"), "web/techorama", "techorama"));
        assert_eq!(r.with_tag("abc1234"), "msr.example.com/web/techorama:abc1234");
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(
            error("msr.example.com/Web/App"),
            "Input 'repository': \"msr.example.com/Web/App\" is not a valid image name: repository names must be lower case (msr.example.com/web/app)"
        );
        assert!(error("msr.example.com/web/app:1.0").contains("leave out the tag :1.0"));
        assert!(error("msr.example.com/web/app@sha256:abc").contains("leave out the digest"));
        assert!(error("https://msr.example.com/web/app").contains("leave out the scheme"));
        assert!(error("msr.example.com//app").contains("empty path component"));
        assert!(error("msr.example.com/-app").contains("\"-app\""));
        assert!(error("msr.example.com/a...b").contains("\"a...b\""));
        assert!(error("msr_example.com/app").contains("not a valid host name"));
        assert!(error("msr.example.com:https/app").contains("port \"https\""));
        assert!(error("web app").contains("white space"));
    }

    #[test]
    fn tags() {
        for tag in ["latest", "abc1234", "v1.4.2-rc.1", "_x", "feature-Login"] {
            assert!(check_tag("tags", tag).is_ok(), "{tag}");
        }
        assert_eq!(
            check_tag("tags", "feature/x").unwrap_err().to_string(),
            "Input 'tags': \"feature/x\" is not a valid tag: a tag is 1 to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'"
        );
        assert!(check_tag("tags", ".hidden").is_err());
        assert!(check_tag("tags", &"a".repeat(129)).is_err());
        assert!(check_tag("tags", "").is_err());
    }

    #[test]
    fn images_with_a_tag_or_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(parse_image("cacheFrom", "msr.example.com:5443/web/app:main"), Ok("msr.example.com:5443/web/app"));
        assert_eq!(parse_image("cacheFrom", "msr.example.com:5443/web/app"), Ok("msr.example.com:5443/web/app"));
        assert_eq!(parse_image("cacheFrom", &format!("msr.example.com/web/app:v1@{digest}")), Ok("msr.example.com/web/app"));
        assert!(parse_image("cacheFrom", "msr.example.com/web/app:-x").unwrap_err().to_string().starts_with("Input 'cacheFrom': \"-x\""));
        assert!(parse_image("cacheFrom", "msr.example.com/web/app@sha256:12").unwrap_err().to_string().contains("digest"));
        assert!(parse_image("cacheFrom", "msr.example.com/Web/app:v1").unwrap_err().to_string().contains("lower case"));
    }

    proptest! {
        #[test]
        fn grammar_names_are_accepted(
            domain in proptest::option::of("[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z0-9]{1,5}){1,2}(:[0-9]{1,5})?"),
            components in proptest::collection::vec("[a-z0-9]{1,4}(([._]|__|-{1,3})[a-z0-9]{1,4}){0,2}", 1..4),
        ) {
            let path = components.join("/");
            // Without a registry, a first component with '.' would be read as a host, as docker does.
            let name = match &domain { Some(d) => format!("{d}/{path}"), None => format!("org/{path}") };
            prop_assert!(parse_repository("repository", &name).is_ok(), "{}", name);
        }

        #[test]
        fn upper_case_in_the_path_is_always_refused_and_said(path in "[a-z0-9]{0,5}[A-Z][a-zA-Z0-9]{0,5}") {
            let message = error(&format!("msr.example.com/{path}"));
            prop_assert!(message.contains("must be lower case"), "{}", message);
        }

        #[test]
        fn arbitrary_input_never_panics(value in "\\PC{0,80}", tag in "\\PC{0,20}") {
            let _ = parse_repository("repository", &value);
            let _ = check_tag("tags", &tag);
            let _ = parse_image("cacheFrom", &value);
        }
    }
}
