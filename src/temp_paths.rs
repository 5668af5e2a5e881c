//! Which recorded directory a post-job step may delete: only one strictly
//! inside `Agent.TempDirectory`. A task variable can be overwritten by a later
//! step, so the path it holds is checked, never trusted.

/// Whether `candidate` lies strictly below `temp`. Both are the real paths the
/// shim resolved (symlinks followed), absolute, with `/` or `\` separators.
/// Any `.` or `..` component, a relative path or the temp directory itself is refused.
pub fn removable_inside(temp: &str, candidate: &str) -> bool {
    let (Some(temp), Some(candidate)) = (components(temp), components(candidate)) else {
        return false;
    };
    candidate.len() > temp.len() && candidate[..temp.len()] == temp[..]
}

/// The non-empty components of an absolute path; `None` when it is relative or
/// has a `.`/`..` component.
fn components(path: &str) -> Option<Vec<&str>> {
    let is_drive = |p: &str| {
        let b = p.as_bytes();
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
    };
    if !(path.starts_with('/') || path.starts_with('\\') || is_drive(path)) {
        return None;
    }
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return None;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_strictly_inside_the_temp_directory() {
        let temp = "/home/vsts/work/_temp";
        assert!(removable_inside(temp, "/home/vsts/work/_temp/mke-bundle-x1Y2"));
        assert!(removable_inside("/home/vsts/work/_temp/", "/home/vsts/work/_temp//a/b"));
        for outside in [
            "/home/vsts/work/_temp",
            "/home/vsts/work/_temp/",
            "/home/vsts/work/_temp2/x",
            "/home/vsts/work/_temp/../s",
            "/home/vsts/work/_temp/./x",
            "/home/vsts/work",
            "/",
            "",
            "_temp/x",
            "relative/home/vsts/work/_temp/x",
        ] {
            assert!(!removable_inside(temp, outside), "{outside}");
        }
        assert!(!removable_inside("", "/x"));
        assert!(removable_inside(r"D:\a\_temp", r"D:\a\_temp\mke-bundle-1"));
        assert!(!removable_inside(r"D:\a\_temp", r"D:\a\_temp\..\s"));
        assert!(!removable_inside(r"D:\a\_temp", r"E:\a\_temp\x"));
    }

    proptest! {
        #[test]
        fn a_dotdot_never_escapes(temp in "(/[a-z_]{1,4}){1,3}", rest in "(/(\\.\\.|[a-z]{1,3})){1,5}") {
            let candidate = format!("{temp}{rest}");
            prop_assert_eq!(removable_inside(&temp, &candidate), !rest.contains(".."));
        }
    }
}
