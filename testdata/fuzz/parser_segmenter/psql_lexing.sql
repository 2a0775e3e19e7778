/* a /* b */ ; */ SELECT 1;
SET standard_conforming_strings = 'off';
SELECT 'x\';y';
SELECT E'\'' , U&'\', B'1''0', $q$ ; $q$, "a""b";
SELECT 'a''b';
CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; END;
\restrict K
SELECT 1 \g
