# What bench/run and bench/instructions share: the bench user, the seeded database's place, and
# the phases' requests. Sourced from the repository's root, after `root` and `base` are set.

bench_email=bench@localhost
bench_password=bench-password-not-a-secret
cache=$root/target/bench-cache
# Keyed on what makes the database: a new schema or seed is seeded anew.
seeded=$cache/seeded-$(cat schema.sql bench/seed.sql | sha256sum | cut -c1-16).db

read_company=2
first_page="$base/api/v1/chat/threads?company_id=$read_company&limit=50"   # one page; without limit: all 10,000
create_url="$base/api/v1/chat/threads?company_id=1&customer_id=1234567890&location_id=locations%2F4242"
create_body=$root/bench/create-body.json

sign_in() { # sign_in: prints the bench user's access token (empty when sign-in fails)
    curl -s --fail "$base/api/v1/auth/token" -d grant_type=password \
        --data-urlencode "username=$bench_email" --data-urlencode "password=$bench_password" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
