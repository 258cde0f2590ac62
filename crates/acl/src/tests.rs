use super::*;

fn info<'a>(name: &'a str, cats: &[&'a str]) -> CommandInfo<'a> {
    CommandInfo {
        name,
        categories: cats.to_vec(),
        no_auth: false,
        subcommands: Vec::new(),
    }
}

fn container<'a>(name: &'a str, subs: Vec<CommandInfo<'a>>) -> CommandInfo<'a> {
    CommandInfo {
        name,
        categories: vec!["slow"],
        no_auth: false,
        subcommands: subs,
    }
}

fn catalog() -> Catalog {
    let mut auth = info("auth", &["fast", "connection"]);
    auth.no_auth = true;
    Catalog::new(&[
        info("get", &["read", "string", "fast"]),
        info("set", &["write", "string", "slow"]),
        info("hget", &["read", "hash", "fast"]),
        info("hset", &["write", "hash", "fast"]),
        info("copy", &["write", "keyspace", "slow"]),
        container(
            "client",
            vec![
                info("id", &["slow", "connection"]),
                info("setname", &["slow", "connection"]),
                info("kill", &["admin", "slow", "dangerous", "connection"]),
            ],
        ),
        container(
            "config",
            vec![
                info("get", &["admin", "slow", "dangerous"]),
                info("set", &["admin", "slow", "dangerous"]),
            ],
        ),
        info("select", &["fast", "connection"]),
        info("debug", &["admin", "slow", "dangerous"]),
        info("publish", &["pubsub", "fast"]),
        info("subscribe", &["pubsub", "slow"]),
        info("psubscribe", &["pubsub", "slow"]),
        auth,
    ])
}

struct Fixture {
    catalog: Catalog,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture { catalog: catalog() }
    }

    fn env(&self) -> Env<'_> {
        Env {
            catalog: &self.catalog,
            all_channels_by_default: false,
        }
    }

    fn user(&self, rules: &str) -> User {
        let ops: Vec<&[u8]> = rules.split(' ').map(str::as_bytes).collect();
        User::set(None, b"u", &ops, self.env()).unwrap()
    }

    fn set(&self, user: &User, rules: &str) -> Result<User, String> {
        let ops: Vec<&[u8]> = rules.split(' ').map(str::as_bytes).collect();
        User::set(Some(user), b"u", &ops, self.env())
    }

    fn commands(&self, user: &User) -> String {
        user.root().command_rules()
    }

    /// Checks `args` with the given keys (R, W or RW per key, by position)
    /// and channels.
    fn check(
        &self,
        user: &User,
        args: &[&str],
        keys: &[(usize, &str)],
        channels: &[Channel],
    ) -> Result<(), Denied> {
        let name = if args.len() > 1
            && self
                .catalog
                .lookup(&format!("{}|{}", args[0], args[1]))
                .is_some()
        {
            format!("{}|{}", args[0], args[1])
        } else {
            args[0].to_string()
        };
        let id = self.catalog.lookup(&name).expect("known command");
        let keys: Vec<KeyRef> = keys
            .iter()
            .map(|&(pos, access)| KeyRef {
                pos,
                read: access.contains('R'),
                write: access.contains('W'),
            })
            .collect();
        let keys_fn = move || keys.clone();
        user.check(
            &self.catalog,
            &Request {
                id,
                args,
                keys: &keys_fn,
                channels,
            },
        )
    }
}

fn denied(reason: Reason, pos: usize) -> Result<(), Denied> {
    Err(Denied { reason, pos })
}

#[test]
fn the_default_user() {
    let f = Fixture::new();
    let d = User::new_default(f.env());
    assert_eq!(
        String::from_utf8(d.line()).unwrap(),
        "user default on nopass sanitize-payload ~* &* +@all"
    );
    assert!(d.unrestricted());
    assert!(d.check_password(b"anything"));
}

#[test]
fn a_new_user_is_off_and_may_do_nothing() {
    let f = Fixture::new();
    let u = f.user("");
    assert_eq!(
        String::from_utf8(u.describe()).unwrap(),
        "off sanitize-payload resetchannels -@all"
    );
    assert!(!u.check_password(b""));
    assert_eq!(
        f.check(&u, &["get", "k"], &[(1, "R")], &[]),
        denied(Reason::Command, 0)
    );
    // `reset` brings a user back to exactly that.
    let changed = f.user("on >pw ~* &* +@all (+get ~x)");
    let reset = f.set(&changed, "reset").unwrap();
    assert_eq!(reset.describe(), u.describe());
}

#[test]
fn passwords() {
    let f = Fixture::new();
    let u = f.user("on >passwd1 >passwd2");
    assert!(u.check_password(b"passwd1") && u.check_password(b"passwd2"));
    assert!(!u.check_password(b"passwd3"));
    let u = f.set(&u, "<passwd1").unwrap();
    assert!(!u.check_password(b"passwd1"));
    assert_eq!(
        f.set(&u, "<nothere").unwrap_err(),
        "Error in ACL SETUSER modifier '<nothere': The password you are trying to remove from the user does not exist"
    );
    let hash = "34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6";
    let u = f.set(&u, &format!("#{hash}")).unwrap();
    assert!(u.check_password(b"passwd4"));
    assert!(u.passwords().contains(&hash.to_string()));
    assert!(f
        .set(&u, &format!("#{}", &hash[..63]))
        .unwrap_err()
        .contains("exactly 64 characters"));
    assert!(f.set(&u, &format!("#{}q", &hash[..63])).is_err());
    let u = f.set(&u, &format!("!{hash}")).unwrap();
    assert!(!u.check_password(b"passwd4"));
    // nopass opens with anything; resetpass closes again; off refuses all.
    let u = f.set(&u, "nopass").unwrap();
    assert!(u.check_password(b"whatever") && u.passwords().is_empty());
    assert!(!f.set(&u, "resetpass").unwrap().check_password(b"whatever"));
    assert!(!f.set(&u, "off").unwrap().check_password(b"whatever"));
    assert_eq!(hash_password(b"passwd4"), hash);
}

#[test]
fn commands_categories_and_subcommands() {
    let f = Fixture::new();
    let u = f.user("on nopass allkeys +@all -client");
    assert_eq!(
        f.check(&u, &["client", "id"], &[], &[]),
        denied(Reason::Command, 0)
    );
    let u = f.set(&u, "+client|id +client|setname").unwrap();
    assert_eq!(f.commands(&u), "+@all -client +client|id +client|setname");
    assert!(f.check(&u, &["client", "id"], &[], &[]).is_ok());
    assert_eq!(
        f.check(&u, &["client", "kill", "x"], &[], &[]),
        denied(Reason::Command, 0)
    );

    let u = f.user("+@all -client|kill");
    assert_eq!(f.commands(&u), "+@all -client|kill");
    let u = f.user("-@all +config -config|set");
    assert!(f.check(&u, &["config", "get", "x"], &[], &[]).is_ok());
    assert_eq!(
        f.check(&u, &["config", "set", "x", "y"], &[], &[]),
        denied(Reason::Command, 0)
    );

    // Categories reach subcommands by their own categories.
    let u = f.user("+@all -@admin");
    assert_eq!(
        f.check(&u, &["config", "get", "x"], &[], &[]),
        denied(Reason::Command, 0)
    );
    assert!(f.check(&u, &["client", "id"], &[], &[]).is_ok());
    assert!(f.check(&u, &["get", "k"], &[], &[]).is_ok());
    // Commands without permission bits (AUTH) are always allowed.
    assert!(f.check(&f.user(""), &["auth", "a", "b"], &[], &[]).is_ok());
}

#[test]
fn first_arguments_and_bad_names() {
    let f = Fixture::new();
    let u = f.user("-@all +select|0 +debug|object");
    assert!(f.check(&u, &["select", "0"], &[], &[]).is_ok());
    assert_eq!(
        f.check(&u, &["select", "1"], &[], &[]),
        denied(Reason::Command, 0)
    );
    assert!(f.check(&u, &["debug", "OBJECT", "k"], &[], &[]).is_ok());
    assert_eq!(
        f.check(&u, &["debug", "segfault"], &[], &[]),
        denied(Reason::Command, 0)
    );
    assert_eq!(f.commands(&u), "-@all +select|0 +debug|object");
    // Allowing the whole command drops the first-argument rules.
    assert_eq!(
        f.commands(&f.set(&u, "+select|0 +debug").unwrap()),
        "-@all +select|0 +debug"
    );

    let err = |rules: &str| f.user("+@all").clone_and(&f, rules);
    assert!(err("+config|get|appendonly")
        .contains("Allowing first-arg of a subcommand is not supported"));
    assert!(err("+config|asdf").contains("Unknown command or category name in ACL"));
    assert!(err("-config|asdf").contains("Unknown command or category name in ACL"));
    assert!(err("+get|key1|key2").contains("Unknown command or category name in ACL"));
    assert!(err("-select|0").contains("Unknown command or category name in ACL"));
    assert!(err("+@nosuch").contains("Unknown command or category name in ACL"));
    assert!(err("+debug|").contains("Syntax error"));
    assert!(err("bogus").contains("Syntax error"));
}

trait CloneAnd {
    fn clone_and(&self, f: &Fixture, rules: &str) -> String;
}

impl CloneAnd for User {
    fn clone_and(&self, f: &Fixture, rules: &str) -> String {
        f.set(self, rules).unwrap_err()
    }
}

#[test]
fn command_rules_are_kept_as_redis_7_2_keeps_them() {
    let f = Fixture::new();
    let cases = [
        ("+@all -@hash -@slow +hget", "+@all -@hash -@slow +hget"),
        (
            "+@all -@hash -@slow +hget -@hash",
            "+@all -@slow +hget -@hash",
        ),
        (
            "+@all -@slow +hget -@hash +@hash",
            "+@all -@slow +hget +@hash",
        ),
        ("+@all -@slow -@all", "-@all"),
        ("-@string -@slow +@all", "+@all"),
        ("-@all +@HASH +@hash +@HaSh", "-@all +@hash"),
        ("-@all +HGET +hget +hGeT", "-@all +hget"),
        (
            "-@all +@hash +@slow +@set +@set +@slow +@hash",
            "-@all +@set +@slow +@hash",
        ),
        ("-@all +hget -hset +hset -hget", "-@all +hset -hget"),
        (
            "-@all +client|id +client|id +config|get +config",
            "-@all +client|id +config",
        ),
        (
            "-@all +select|0 +select|0 +debug|object +debug",
            "-@all +select|0 +debug",
        ),
        ("-@all -@dangerous", "-@all -@dangerous"),
        (
            "-@all +config +config|get -config|set +config",
            "-@all +config",
        ),
        ("+@all +client|id", "+@all +client|id"),
    ];
    for (rules, expected) in cases {
        assert_eq!(f.commands(&f.user(rules)), expected, "{rules}");
    }
    // Each category alone, from either end.
    for cat in CATEGORIES {
        assert_eq!(
            f.commands(&f.user(&format!("+@all -@{cat}"))),
            format!("+@all -@{cat}")
        );
        assert_eq!(
            f.commands(&f.user(&format!("-@all +@{cat}"))),
            format!("-@all +@{cat}")
        );
    }
}

#[test]
fn key_patterns_with_read_and_write_access() {
    let f = Fixture::new();
    let u = f.user("on +@all resetkeys %R~read* %W~write* %RW~rw* ~both*");
    assert_eq!(
        String::from_utf8(u.root().keys_text()).unwrap(),
        "%R~read* %W~write* ~rw* ~both*"
    );
    assert!(f.check(&u, &["get", "read1"], &[(1, "R")], &[]).is_ok());
    assert_eq!(
        f.check(&u, &["get", "write1"], &[(1, "R")], &[]),
        denied(Reason::Key, 1)
    );
    assert!(f
        .check(&u, &["set", "write1", "v"], &[(1, "W")], &[])
        .is_ok());
    assert_eq!(
        f.check(&u, &["set", "read1", "v"], &[(1, "W")], &[]),
        denied(Reason::Key, 1)
    );
    assert_eq!(
        f.check(&u, &["set", "read1", "v"], &[(1, "RW")], &[]),
        denied(Reason::Key, 1)
    );
    assert!(f.check(&u, &["set", "rw1", "v"], &[(1, "RW")], &[]).is_ok());
    assert!(f
        .check(&u, &["copy", "read1", "write1"], &[(1, "R"), (2, "W")], &[])
        .is_ok());
    assert_eq!(
        f.check(&u, &["copy", "write1", "read1"], &[(1, "R"), (2, "W")], &[]),
        denied(Reason::Key, 1)
    );
    // Adding the same pattern again widens its access.
    let u = f.set(&u, "%W~read*").unwrap();
    assert_eq!(
        String::from_utf8(u.root().keys_text()).unwrap(),
        "~read* %W~write* ~rw* ~both*"
    );
    // A pattern after ~* is refused; bad forms are syntax errors.
    assert!(f
        .set(&f.user("~*"), "~foo")
        .unwrap_err()
        .contains("Try 'resetkeys'"));
    for bad in ["%~x", "%X~x", "%RR~x", "%R", "~a b"] {
        assert!(f.set(&u, bad).is_err(), "{bad}");
    }
}

#[test]
fn channels() {
    let f = Fixture::new();
    let u = f.user("on +@all ~* resetchannels &foo:1 &bar:*");
    let publish = [Channel {
        pos: 1,
        pattern: false,
    }];
    assert!(f
        .check(&u, &["publish", "foo:1", "m"], &[], &publish)
        .is_ok());
    assert!(f
        .check(&u, &["publish", "bar:2", "m"], &[], &publish)
        .is_ok());
    assert_eq!(
        f.check(&u, &["publish", "zap", "m"], &[], &publish),
        denied(Reason::Channel, 1)
    );
    // A pattern subscription must be one of the patterns, literally.
    let psub = [Channel {
        pos: 1,
        pattern: true,
    }];
    assert!(f.check(&u, &["psubscribe", "bar:*"], &[], &psub).is_ok());
    assert_eq!(
        f.check(&u, &["psubscribe", "bar:baz"], &[], &psub),
        denied(Reason::Channel, 1)
    );
    assert!(f
        .set(&f.user("&*"), "&x")
        .unwrap_err()
        .contains("Try 'resetchannels'"));
    assert_eq!(
        String::from_utf8(u.describe()).unwrap(),
        "on sanitize-payload ~* resetchannels &foo:1 &bar:* +@all"
    );
    // Whether subscribers may stay after a change.
    assert!(u.channels_kept_by(&f.set(&u, "&baz").unwrap()));
    assert!(u.channels_kept_by(&f.set(&u, "allchannels").unwrap()));
    let narrowed = f.set(&u, "resetchannels &foo:1").unwrap();
    assert!(!u.channels_kept_by(&narrowed));
    assert!(narrowed.allows_subscription(b"foo:1", false));
    assert!(!narrowed.allows_subscription(b"bar:2", false));
    assert!(!f.user("allchannels").channels_kept_by(&narrowed));
    // acl-pubsub-default allchannels: new users and selectors start with &*.
    let env = Env {
        catalog: &f.catalog,
        all_channels_by_default: true,
    };
    let u = User::set(None, b"x", &[b"(+get)".as_slice()], env).unwrap();
    assert_eq!(
        String::from_utf8(u.describe()).unwrap(),
        "off sanitize-payload &* -@all (&* -@all +get)"
    );
}

#[test]
fn selectors() {
    let f = Fixture::new();
    let u = f.user("on nopass -@all +get %R~read* (+set %W~write*) (~x* +@all)");
    assert_eq!(
        String::from_utf8(u.describe()).unwrap(),
        "on nopass sanitize-payload %R~read* resetchannels -@all +get \
         (%W~write* resetchannels -@all +set) (~x* resetchannels +@all)"
    );
    assert!(f.check(&u, &["get", "read1"], &[(1, "R")], &[]).is_ok());
    assert!(f
        .check(&u, &["set", "write1", "v"], &[(1, "W")], &[])
        .is_ok());
    assert!(f.check(&u, &["set", "x1", "v"], &[(1, "RW")], &[]).is_ok());
    // Selectors do not combine: the most relevant refusal is reported.
    assert_eq!(
        f.check(&u, &["get", "write1"], &[(1, "R")], &[]),
        denied(Reason::Key, 1)
    );
    assert_eq!(
        f.check(&u, &["hset", "h", "f", "v"], &[(1, "W")], &[]),
        denied(Reason::Key, 1)
    );
    assert_eq!(
        f.check(&u, &["copy", "x1", "write1"], &[(1, "R"), (2, "W")], &[]),
        denied(Reason::Key, 2)
    );
    // Selectors spread over several arguments are joined.
    let ops: Vec<&[u8]> = vec![b"(+get", b"~a*", b"%R~b*)"];
    let v = User::set(None, b"v", &ops, f.env()).unwrap();
    assert_eq!(v.selectors().len(), 2);
    assert_eq!(
        User::set(None, b"v", &[b"(+get".as_slice(), b"(+set"], f.env()).unwrap_err(),
        "Unmatched parenthesis in acl selector starting at '(+get'."
    );
    assert!(f
        .set(&u, "(&* &fail)")
        .unwrap_err()
        .starts_with("Error in ACL SETUSER modifier '(&* &fail)': Adding a pattern"));
    assert!(f.set(&u, "(+get (+set )").is_err());
    assert_eq!(f.set(&u, "clearselectors").unwrap().selectors().len(), 1);
    // A failed SETUSER changes nothing (the caller keeps the old user).
    assert!(f.set(&u, "+get bogus").is_err());
}

#[test]
fn the_log_groups_similar_entries() {
    let mut log = Log::default();
    log.add(
        Reason::Command,
        Context::Toplevel,
        b"get",
        b"u",
        "a".into(),
        1000,
        5,
    );
    log.add(
        Reason::Command,
        Context::Toplevel,
        b"get",
        b"u",
        "b".into(),
        2000,
        5,
    );
    assert_eq!(log.len(), 1);
    let e = log.newest(10).next().unwrap();
    assert_eq!(
        (e.count, e.entry_id, e.created_ms, e.updated_ms),
        (2, 0, 1000, 2000)
    );
    assert_eq!(e.client_info, "b");
    // Different context, or too long after, is a new entry.
    log.add(
        Reason::Command,
        Context::Multi,
        b"get",
        b"u",
        "c".into(),
        2000,
        5,
    );
    log.add(
        Reason::Command,
        Context::Toplevel,
        b"get",
        b"u",
        "d".into(),
        200_000,
        5,
    );
    assert_eq!(log.len(), 3);
    assert_eq!(log.newest(1).next().unwrap().entry_id, 2);
    for i in 0..10u8 {
        log.add(
            Reason::Key,
            Context::Toplevel,
            &[i],
            b"u",
            String::new(),
            300_000,
            5,
        );
    }
    assert_eq!(log.len(), 5);
    log.reset();
    assert!(log.is_empty());
}

#[test]
fn acl_file_round_trip() {
    let f = Fixture::new();
    let text = b"user alice on allcommands allkeys &* >alice\n\
                 \n\
                 user bob on -@all +@hash ~set* &* >bob (+get %R~x*)\n\
                 user default on nopass ~* &* +@all\n";
    let users = file::parse(text, "users.acl", f.env()).unwrap();
    assert_eq!(users.len(), 3);
    let rendered = file::render(&users);
    let again = file::parse(&rendered, "users.acl", f.env()).unwrap();
    assert_eq!(users, again);
    assert!(users[0].check_password(b"alice"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.acl");
    file::write_atomically(&path, &rendered).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), rendered);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn acl_file_errors_name_every_bad_line() {
    let f = Fixture::new();
    let text =
        b"user alice on +@all\n# a comment\nuser alice on\nuser bob +nosuch ~a ~*x bogus bogus2\n";
    let err = file::parse(text, "u.acl", f.env()).unwrap_err();
    assert_eq!(
        err,
        "u.acl:2 should start with user keyword followed by the username. \
         WARNING: Duplicate user 'alice' found on line 3. \
         u.acl:4: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
         u.acl:4: Syntax error. \
         WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
    );
}

#[test]
fn selector_arguments_split_like_redis() {
    use crate::user::split_args;
    assert_eq!(
        split_args(b" +get  ~a* ").unwrap(),
        vec![b"+get".to_vec(), b"~a*".to_vec()]
    );
    assert_eq!(
        split_args(b"\"~a b\" x").unwrap(),
        vec![b"~a b".to_vec(), b"x".to_vec()]
    );
    assert!(split_args(b"\"open").is_none());
}
