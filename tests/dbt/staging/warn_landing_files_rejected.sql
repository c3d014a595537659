{{ config(severity='warn') }}

-- Files in the landing zone the tap does not read, with why, as its last run found them (a file listed by an
-- earlier run and gone since is not listed). Nothing of them is in raw_events.events.

with

landing_files as (
    select * from {{ source('events', 'landing_files') }}
),

last_listing as (
    select max(seen_at) as seen_at
    from landing_files
),

final as (
    select
        landing_files._source_file as source_file,
        landing_files.rejected_reason,
        landing_files.size_bytes,
        landing_files.modified_at
    from landing_files
    inner join last_listing
        on landing_files.seen_at = last_listing.seen_at
    where landing_files.rejected_reason is not null
)

select * from final
