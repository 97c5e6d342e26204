-- core.accounts rows changed in one data interval [$1, $2), oldest change first.
select account_id::bigint,
       customer_id::bigint,
       product::text,
       credit_limit::float8,
       status::text,
       opened_at::date,
       updated_at::timestamptz
from core.accounts
where updated_at >= $1 and updated_at < $2
order by updated_at, account_id
