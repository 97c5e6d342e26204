-- core.statements rows changed in one data interval [$1, $2), oldest change first.
select statement_id::bigint,
       account_id::bigint,
       statement_date::date,
       balance::float8,
       credit_limit::float8,
       min_payment_due::float8,
       due_date::date,
       days_past_due::integer,
       updated_at::timestamptz
from core.statements
where updated_at >= $1 and updated_at < $2
order by updated_at, statement_id
