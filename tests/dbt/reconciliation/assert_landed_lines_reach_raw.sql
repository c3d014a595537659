-- Every file in the landing zone at load time (audit.landed_files: the snapshot reads the folder itself, whatever
-- the names) is either loaded, as it is now, or listed by the tap as rejected with its reason (named by the warn test
-- warn_landing_files_rejected). Loaded as it is now: raw's live rows for the file (those not marked deleted) are its
-- non-blank lines, each once, at the same line numbers, with the same bytes - each line's md5, combined in line
-- order as the snapshot combines them. So a file changed after it was loaded (a line corrected, inserted or removed)
-- and not read again fails here, not only a file whose line count differs. Fails listing each file and the problem.
-- Raw means raw and the archive retention moved old days to (privacy/retention.py); a file of a day retention deleted
-- (older than its delete horizon, audit.retention_runs) is expected nowhere.

with

landed_files as (
    select * from {{ source('audit', 'landed_files') }}
    where {{ is_retained_landing_file('source_file') }}
),

landing_files as (
    select * from {{ source('events', 'landing_files') }}
),

{# Raw's lines and the archive's (union_all_by_name lists the columns read here where it must). Set here, not at
    the top: the audit snapshot is the test's first source, which dbt-score files it under. #}
{% set raw_and_archive = [source('events', 'events'), ref('stg_events__archived_events')] %}
raw_events as (
    {{ union_all_by_name(
        raw_and_archive, ['_source_file', '_line_number', '_line_md5'], where='_sdc_deleted_at is null'
    ) }}
),

raw_files as (
    select
        _source_file as source_file,
        count(distinct _line_number) as raw_lines,
        count(*) as raw_rows,
        {{ dbt.hash(dbt.listagg(
            dbt.concat(["cast(_line_number as " ~ dbt.type_string() ~ ")", "':'", "_line_md5"]),
            "','",
            "order by _line_number"
        )) }} as raw_lines_md5
    from raw_events
    group by 1
),

compared as (
    select
        coalesce(landed_files.source_file, raw_files.source_file) as source_file,
        landed_files.source_file is not null as is_in_landing_zone,
        landing_files._source_file is not null as is_seen_by_tap,
        landing_files.rejected_reason,
        landed_files.line_count as landed_lines,
        coalesce(raw_files.raw_lines, 0) as raw_lines,
        coalesce(raw_files.raw_rows, 0) as raw_rows,
        landed_files.lines_md5 as landed_lines_md5,
        raw_files.raw_lines_md5
    from landed_files
    full outer join raw_files
        on landed_files.source_file = raw_files.source_file
    left join landing_files
        on coalesce(landed_files.source_file, raw_files.source_file) = landing_files._source_file
),

final as (
    select
        source_file,
        case
            when not is_in_landing_zone then 'in raw, no longer in the landing zone'
            when not is_seen_by_tap then 'never seen by the tap (landed after the load?)'
            when raw_lines != landed_lines or raw_rows != landed_lines then 'line counts differ'
            else 'content differs: raw holds another version of the file'
        end as problem,
        landed_lines,
        raw_lines,
        raw_rows,
        landed_lines_md5,
        raw_lines_md5
    from compared
    where
        rejected_reason is null
        and (
            not is_in_landing_zone
            or not is_seen_by_tap
            or raw_lines != landed_lines
            or raw_rows != landed_lines
            or landed_lines_md5 is distinct from raw_lines_md5
        )
)

select * from final
