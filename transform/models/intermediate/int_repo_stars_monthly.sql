-- Stars per repo at its last observation of each month (months without an observation have no row: the star
-- archive is sparse and nothing is interpolated).
select
    repo,
    cast(date_trunc('month', observed_date) as date) as period,
    arg_max(stars, observed_date) as month_end_stars,
    max(observed_date) as last_observed_date,
    count(*) as observations
from {{ ref('fct_repo_stars') }}
group by all
