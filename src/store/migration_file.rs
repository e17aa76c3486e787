//! The format both schema files share: a migration starts at a line `-- migration N: title` and
//! runs to the next one; comments above the first belong to none.

pub struct Migration {
    pub number: u32,
    pub title: String,
    pub sql: String,
}

pub fn parse(text: &str) -> Vec<Migration> {
    let mut found: Vec<Migration> = Vec::new();
    for line in text.lines() {
        match (heading(line), found.last_mut()) {
            (Some((number, title)), _) => found.push(Migration {
                number,
                title: title.to_string(),
                sql: String::new(),
            }),
            (None, Some(migration)) => {
                migration.sql.push_str(line);
                migration.sql.push('\n');
            }
            (None, None) => {}
        }
    }
    found
}

fn heading(line: &str) -> Option<(u32, &str)> {
    let (number, title) = line.strip_prefix("-- migration ")?.split_once(':')?;
    Some((number.trim().parse().ok()?, title.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_numbered_from_one_without_gaps(text: &str) {
        let numbers: Vec<u32> = parse(text).iter().map(|m| m.number).collect();
        let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
        assert_eq!(numbers, expected);
    }

    #[test]
    fn both_schemas_are_numbered_from_one_without_gaps() {
        assert_numbered_from_one_without_gaps(include_str!("../../schema.sql"));
        assert_numbered_from_one_without_gaps(include_str!("../../schema.postgres.sql"));
    }

    #[test]
    fn both_schemas_have_the_same_migrations() {
        let titles = |text| -> Vec<(u32, String)> {
            parse(text)
                .into_iter()
                .map(|m| (m.number, m.title))
                .collect()
        };
        assert_eq!(
            titles(include_str!("../../schema.sql")),
            titles(include_str!("../../schema.postgres.sql"))
        );
    }

    #[test]
    fn a_migration_runs_from_its_heading_to_the_next() {
        let found = parse("-- preamble\n-- migration 1: one\nA;\n\n-- migration 2: two\nB;\n");
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].number, &*found[0].title), (1, "one"));
        assert_eq!(found[0].sql, "A;\n\n");
        assert_eq!(found[1].sql, "B;\n");
    }
}
